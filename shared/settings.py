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
    # This process's SCRAM user at the broker (shared/kafka.py); empty: no authentication.
    kafka_username: str = ""
    kafka_password: str = ""
    # Prefixes every topic and consumer group: lets tests share one broker without crosstalk.
    topic_prefix: str = ""
    postgres_dsn: str = "postgresql://cqp@127.0.0.1:5432/cqp"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    relay_poll_seconds: float = 0.5
    # How often the deadline clock looks for timers come due (services/jury/deadlines/timers.py).
    deadlines_poll_seconds: float = 60.0
    # Lets `cqp deadlines clock --advance` move the deadline clock forward: for demonstrations and tests only.
    deadlines_clock_adjustable: bool = False
    pool_size: int = 5
    # Where the gateway forwards commands.
    catalog_url: str = "http://127.0.0.1:8001"
    candidacy_url: str = "http://127.0.0.1:8002"
    jury_url: str = "http://127.0.0.1:8003"
    # The platform's public address: certificates' verification links (<public_url>/verify/<number>) and the
    # issuers' did:web identifiers (did:web:<its host>:branches:<branch>).
    public_url: str = "https://cqp.localhost"
    # How long a mutation waits for the read models to show its events.
    read_your_writes_timeout: float = 10.0
    # The identity provider: access tokens must come from this issuer (their keys are discovered from
    # it) and name this audience.
    oidc_issuer: str = "http://127.0.0.1:8180/realms/cqp"
    oidc_audience: str = "cqp-gateway"
    # Tolerance on a token's expiry and not-before, for clocks that drift a little.
    token_leeway_seconds: int = 30
    # This process's own account at the provider (client credentials), for calls it makes itself.
    client_id: str = ""
    client_secret: str = ""
    # Bounds of what a caller may send: a request body, and the read queries it can cause.
    max_request_bytes: int = 2_000_000
    # ... and what the gateway answers: a GraphQL answer's text (ResponseTooLarge beyond), and what callers
    # without a token may spend per client address (a budget of cost units, refilled each second).
    max_response_bytes: int = 16_000_000
    anonymous_budget: int = 4_000
    anonymous_budget_per_second: int = 500
    # Live subscriptions a gateway process serves at most, in all and per user.
    max_live_watches: int = 1000
    max_live_watches_per_user: int = 50
    read_statement_timeout_ms: int = 5_000
    # Ready (/health/ready) only while the relay is fewer events than this behind the store.
    ready_max_relay_lag: int = 1000
    # ... and while its consumers are fewer messages than this behind on every partition.
    ready_max_consumer_lag: int = 1000
    # GraphiQL and introspection: on in development, off in production.
    graphql_introspection: bool = True
    # AES key (base64) of the services that store personal data encrypted; never committed.
    cipher_key: str = ""
    # The services' key (any text, never committed) for the digest of the clients' idempotency keys
    # (shared/http.py): a key is client text (it can be a person's name), so no event carries it in clear.
    command_key: str = ""
    # An OTLP/HTTP collector (e.g. http://127.0.0.1:4318) to export traces to; none: tracing is off.
    otlp_endpoint: str = ""
    # The gateway's key for signing list cursors (services/gateway/schema/pagination.py); gateways behind one
    # address share it. Empty: one drawn at start, and cursors end with the process.
    cursor_key: str = ""
    # The object store (S3 API; any provider): this process's credentials and its own private bucket
    # (shared/objects.py). Development and tests run versitygw (deploy/s3/).
    s3_endpoint: str = "http://127.0.0.1:9000"
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    # Put before every object key: deployments (or tests) sharing one bucket keep apart.
    s3_prefix: str = ""
    # A malware scanner for uploaded documents: ClamAV's clamd, "host:port" (shared/documents.py Scanner).
    # Empty: documents are checked (type, size, digest) but not scanned.
    clamd_address: str = ""
    # Mail: any SMTP relay (STARTTLS used when it offers it); development and tests run Mailpit (deploy/smtp/).
    # The password is never committed; the sender's address names the domain of every Message-ID.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "CQP <ne-pas-repondre@cqp.localhost>"
    smtp_timeout_seconds: float = 30.0
    # shared/mail.py's outbox: a failed send is tried again after base·2^(n-1) seconds (at most the cap), and
    # set aside ('dead') after this many attempts; a claimed message is another sender's again after the lease.
    mail_retry_base_seconds: float = 30.0
    mail_retry_max_seconds: float = 3600.0
    mail_max_attempts: int = 8
    mail_lease_seconds: float = 120.0
    mail_poll_seconds: float = 1.0
    # Tests only: the gateway counts the SQL statements and name lookups of each GraphQL request and says so
    # in the answer's `extensions` (the bound on a page's cost is tested with it).
    count_queries: bool = False

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
            # Fail fast when the database is away (the library waits 30 s by default): the command answers
            # OutcomeUnknown at once, and the client sends it again with the same key.
            "POSTGRES_CONNECT_TIMEOUT": "3",
            # A pooled connection that died with a database restart is replaced before a command uses it.
            "POSTGRES_PRE_PING": "yes",
        }
