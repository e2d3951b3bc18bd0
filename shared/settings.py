"""Settings: one object per process, read from CQP_-prefixed environment variables.

Each process is started with its own environment (scripts/dev, docker-compose.yml, the tests),
so the same names serve every service: CQP_PORT is the port of the process being started.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CQP_", extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    # Prefixes every topic and consumer group: lets tests share one broker without crosstalk.
    topic_prefix: str = ""
    postgres_dsn: str = "postgresql://cqp@127.0.0.1:5432/cqp"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    relay_poll_seconds: float = 0.5
    pool_size: int = 5
    # Where the gateway forwards commands.
    catalog_url: str = "http://127.0.0.1:8001"
    candidacy_url: str = "http://127.0.0.1:8002"
    jury_url: str = "http://127.0.0.1:8003"
    # How long a mutation waits for the read models to show its events.
    read_your_writes_timeout: float = 10.0
    # HMAC key of the gateway's bearer tokens; scripts/dev generates one per machine.
    auth_secret: str = ""
    # AES key (base64) of the services that store personal data encrypted; never committed.
    cipher_key: str = ""
    # Fault injection for crash tests only: a named point where the process SIGKILLs itself.
    crash_at: str = ""

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def eventsourcing_env(self, schema: str) -> dict[str, str]:
        """The eventsourcing library reads its persistence settings from a dict."""
        url = urlsplit(self.postgres_dsn)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": url.username or "postgres",
            "POSTGRES_PASSWORD": url.password or "",
            "POSTGRES_SCHEMA": schema,
            # Commands run in worker threads: the pool must cover them.
            "POSTGRES_POOL_SIZE": str(self.pool_size),
            "POSTGRES_MAX_OVERFLOW": "10",
        }
