"""Named crash points, so integration tests can SIGKILL a process at an exact step.

Set CQP_CRASH_AT=<point>; the process kills itself the first time it reaches that point.
A real SIGKILL: no finally block, no flush, no offset commit runs.
"""

import os
import signal

_armed = os.environ.get("CQP_CRASH_AT", "")


def crash_point(name: str) -> None:
    if _armed and _armed == name:
        os.kill(os.getpid(), signal.SIGKILL)
