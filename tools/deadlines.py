"""`cqp deadlines clock`: the day the jury's deadline clock reads (services/jury/deadlines/timers.py)."""

from __future__ import annotations

import asyncpg

from services.jury.deadlines import timers


async def clock(dsn: str, advance: int) -> str:
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "jury"})
    try:
        if advance:
            await timers.advance(conn, advance)
        return (await timers.today(conn)).isoformat()
    finally:
        await conn.close()
