"""A process's long-running loops (the relay, a mail sender, the deadline clock): how they stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

logger = logging.getLogger("loops")


def cancelled() -> bool:
    """Whether the running task is being cancelled: a loop retrying on errors stops then, whatever a library
    raised in place of the cancellation."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def stop(tasks: list[asyncio.Task], seconds: float = 10.0) -> None:
    """Cancel the loops and wait for them a bounded time: one that does not stop must not keep the process
    from stopping (it is logged, and left behind)."""
    for task in tasks:
        task.cancel()
    done, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        logger.error("a loop did not stop on cancellation; left behind", extra={"fields": {"task": task.get_name()}})
    for task in done:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            task.result()
