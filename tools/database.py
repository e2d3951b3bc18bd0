"""One PostgreSQL role per process, owning only its schema: `cqp database`, run with an admin's DSN.

Each process logs in as its own role (cqp_catalog, cqp_candidacy, cqp_jury, cqp_gateway), never as a
superuser, with a password (scram-sha-256). Its schema (the service's name; the gateway's read
models in `gateway`) is created here by the admin and owned by the role, so a process reads and
writes its own tables and cannot even look into another's schema: services share no tables. Only the
gateway may create a schema in the database: `cqp gateway rebuild` drops its read models' schema and
the gateway makes it again when it starts. Roles belong to the whole server, so one set serves every
database (the tests make one database per system); `provision` grants them the database it is
connected to, and takes from PUBLIC the right to connect to the server's maintenance databases
(`postgres`, `template1`; the admin, a superuser, keeps it). Operators' commands that read several
schemas (dead letters, the Caisse des Dépôts export) run with the admin's DSN.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg

PROCESSES = ("catalog", "candidacy", "jury", "gateway")  # each one's schema bears its name
# Whose schema may be dropped and made again by the process itself.
MAY_CREATE_SCHEMA = ("gateway",)
# Who may make temporary tables: the gateway replays past states into them (services/gateway/asof.py).
MAY_CREATE_TEMPORARY = ("gateway",)


def role(process: str) -> str:
    return f"cqp_{process}"


def process_dsn(admin_dsn: str, process: str, password: str) -> str:
    """The DSN of a process: the admin's server and database, the process's role and password."""
    url = urlsplit(admin_dsn)
    host = url.hostname or "127.0.0.1"
    netloc = f"{role(process)}:{password}@{host}" + (f":{url.port}" if url.port else "")
    return urlunsplit(url._replace(netloc=netloc))


async def provision(admin_dsn: str, passwords: dict[str, str] | None = None) -> None:
    """Create (or set the password of) the roles given a password, then, in the DSN's database, give
    each process its schema and nothing else. Safe to run again."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        for process, password in (passwords or {}).items():
            exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role(process))
            statement = await conn.fetchval(
                "SELECT format('%s ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD %L',"
                " $1::text, $2::text, $3::text)", "ALTER" if exists else "CREATE", role(process), password)
            await conn.execute(statement)
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'REVOKE ALL ON DATABASE "{database}" FROM PUBLIC')
        # Every server's maintenance databases let PUBLIC connect: the processes' roles connect to theirs only.
        for other in await conn.fetch("SELECT datname FROM pg_database WHERE datname IN ('postgres', 'template1')"):
            await conn.execute(f'REVOKE CONNECT, TEMPORARY ON DATABASE "{other["datname"]}" FROM PUBLIC')
        for process in PROCESSES:
            rights = ", ".join(["CONNECT", *(["CREATE"] if process in MAY_CREATE_SCHEMA else []),
                                *(["TEMPORARY"] if process in MAY_CREATE_TEMPORARY else [])])
            await conn.execute(f'GRANT {rights} ON DATABASE "{database}" TO "{role(process)}"')
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{process}" AUTHORIZATION "{role(process)}"')
    finally:
        await conn.close()
