"""Named crash points, so integration tests can SIGKILL a process at an exact step.

Set CQP_CRASH_AT=<point>; the process kills itself the first time it reaches that point.
A real SIGKILL: no finally block, no flush, no offset commit runs. CQP_CRASH_DELAY (seconds) holds an
asynchronous point that long first, while the rest of the process goes on (e.g. a Kafka client's
periodic offset commit).
"""

import asyncio
import os
import signal

_armed = os.environ.get("CQP_CRASH_AT", "")
_delay = float(os.environ.get("CQP_CRASH_DELAY", "0") or 0)


def crash_point(name: str) -> None:
    if _armed and _armed == name:
        os.kill(os.getpid(), signal.SIGKILL)


async def crash_point_later(name: str) -> None:
    if _armed and _armed == name:
        await asyncio.sleep(_delay)
        os.kill(os.getpid(), signal.SIGKILL)
