"""Typed configuration, read once from the environment and `.env`."""

import os
import secrets
from functools import lru_cache
{%- if cookiecutter.messaging != "local" %}
from pathlib import Path
{%- endif %}
from typing import Annotated, Literal, Self

from limits import parse
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PositiveFloat,
    PositiveInt,
    RedisDsn,
    SecretStr,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "staging", "production"]

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "please-change-me"})
MIN_SECRET_BYTES = 32
LOCAL_ENVIRONMENTS = ("development", "test")
{%- if cookiecutter.database == "postgresql" %}
# The local server the default DATABASE_URL names; deployments set DATABASE_URL.
LOCAL_POSTGRESQL = "postgresql+asyncpg://postgres@127.0.0.1:5432"
{%- endif %}


def _is_weak(secret: str) -> bool:
    return secret.lower() in PLACEHOLDER_SECRETS or len(secret.encode()) < MIN_SECRET_BYTES


def _rate_limit(value: str) -> str:
    """A limit in the `limits` notation, such as `120/minute` or `10/15 minutes`."""
    try:
        parse(value)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a rate limit such as '120/minute'") from error
    return value


RateLimit = Annotated[str, AfterValidator(_rate_limit)]


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity, where the system tells)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1  # pragma: no cover - systems without affinity (macOS)


{% if cookiecutter.messaging != "local" -%}
# What a broker accepts in the names of queues, exchanges and streams alike.
BROKER_NAME = r"^[a-z0-9][a-z0-9_-]*$"
SLUG = "{{ cookiecutter.project_slug }}"


{% endif -%}
class Settings(BaseSettings):
    """Every setting the service reads; names match the environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    environment: Environment = "development"
    secret_key: SecretStr = SecretStr("change-me")

{%- if cookiecutter.database == "postgresql" %}
    database_url: str = f"{LOCAL_POSTGRESQL}/{{ cookiecutter.package_name }}"
{%- else %}
    database_url: str = "sqlite+aiosqlite:///./{{ cookiecutter.package_name }}.db"
{%- endif %}
    database_echo: bool = False
    # Connections open lazily and stay pooled. Overflow connections close as soon as they are
    # handed back, so a process busier than its pool would open one for many of its requests.
    database_pool_size: PositiveInt = 10
    database_max_overflow: int = Field(default=0, ge=0)
    database_pool_timeout: float = Field(default=5.0, gt=0)
    database_pool_recycle: int = Field(default=1800, ge=-1)
    # A database server's connection idle longer than this is pinged before use, and replaced
    # if the server dropped it; 0 pings at every checkout. SQLite files are never pinged.
    database_pool_ping_after_idle_seconds: float = Field(default=1.0, ge=0)
    # SQLite: seconds a write waits for another connection's write lock before it fails.
    database_busy_timeout: float = Field(default=5.0, ge=0)
    # PostgreSQL: milliseconds a statement may run before the server cancels it; 0 never.
    database_statement_timeout_ms: int = Field(default=30_000, ge=0)

    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "{{ cookiecutter.project_slug }}"
    jwt_audience: str = "{{ cookiecutter.project_slug }}-api"
    access_token_ttl_seconds: int = Field(default=15 * 60, ge=60, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=3600, le=90 * 24 * 3600)

    # argon2id; the defaults are OWASP's minimum (19 MiB, 2 passes, 1 lane).
    password_hash_memory_kib: int = Field(default=19_456, ge=8)
    password_hash_time_cost: int = Field(default=2, ge=1)
    password_hash_parallelism: int = Field(default=1, ge=1)
    # Hashes computed at once, each holding PASSWORD_HASH_MEMORY_KIB; more wait their turn.
    password_hash_concurrency: PositiveInt = Field(default_factory=usable_cpus)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True

    max_body_size: PositiveInt = 1_048_576
    cors_allow_origins: list[str] = []
    cors_allow_credentials: bool = False
    docs_enabled: bool | None = None

    # Host names the service answers to; requests naming another get 400.
    allowed_hosts: list[str] = ["localhost", "127.0.0.1", "::1"]
    # Proxies whose X-Forwarded-For and X-Forwarded-Proto are believed (addresses or networks).
    trusted_proxies: list[str] = []
    # Behind HTTPS: responses carry Strict-Transport-Security.
    https_only: bool = False
    hsts_max_age_seconds: int = Field(default=63_072_000, ge=0)

    # The bearer token a Prometheus scrape of /metrics must send. Without one (or empty),
    # /metrics answers only in development and test.
    metrics_token: Annotated[SecretStr | None, BeforeValidator(lambda v: v or None)] = None

{%- if cookiecutter.sentry %}
    # Sentry: errors are reported when a DSN is set; the share of requests traced, 0 to 1.
    sentry_dsn: Annotated[SecretStr | None, BeforeValidator(lambda v: v or None)] = None
    sentry_traces_sample_rate: float = Field(default=0.0, ge=0, le=1)
{%- endif %}

    # The HTTP server (server.py): request-head limits, timeouts for slow clients, and how
    # long a SIGTERM lets in-flight requests finish before the process exits anyway.
    server_max_head_bytes: PositiveInt = 65_536
    server_max_header_line_bytes: PositiveInt = 16_384
    server_head_timeout_seconds: float = Field(default=10.0, gt=0)
    server_body_idle_timeout_seconds: float = Field(default=10.0, gt=0)
    server_keep_alive_seconds: PositiveInt = 5
    server_graceful_shutdown_seconds: PositiveFloat = 20

    # Redis, shared by every replica: with REDIS_URL set, rate-limit counts and the cache live
    # there (core/redis.py, in services baked with the Redis option). A pool per process for
    # the cache, a connection of their own for the rate limits, with short timeouts: an
    # unreachable Redis is bypassed, and should cost a request little.
    redis_url: RedisDsn | None = None
    redis_pool_size: PositiveInt = 20
    redis_pool_timeout_seconds: float = Field(default=0.25, gt=0)  # waiting for a connection
    redis_connect_timeout_seconds: float = Field(default=0.25, gt=0)
    redis_socket_timeout_seconds: float = Field(default=0.25, gt=0)
    # Every key the service writes starts with this, so that services can share a Redis.
    redis_key_prefix: str = Field(default="{{ cookiecutter.project_slug }}:", min_length=1)

    # The read-through cache: how long an entry lives, and how many this process keeps
    # when the cache is in-process (no REDIS_URL).
    cache_ttl_seconds: PositiveInt = 60
    cache_max_entries: PositiveInt = 10_000

    # Where rate-limit counters live without REDIS_URL: memory:// (the default) counts in this
    # process only. With REDIS_URL they live in Redis, and this stays unset.
    rate_limit_storage_uri: str | None = None
    # When the counters cannot be reached: let requests through uncounted (true) or answer 503.
    rate_limit_fail_open: bool = True
    rate_limit_default: RateLimit = "120/minute"
    rate_limit_login: RateLimit = "20/minute"
    rate_limit_register: RateLimit = "10/hour"
    rate_limit_refresh: RateLimit = "30/minute"
    rate_limit_password_change: RateLimit = "5/15 minutes"  # noqa: S105 - a rate, not a secret
    # Failed logins one account may have before its logins are refused until the window passes.
    rate_limit_login_failures: RateLimit = "10/15 minutes"

    # Events and background jobs (messaging/). The relay hands outbox rows on every
    # OUTBOX_POLL_SECONDS, up to OUTBOX_BATCH_SIZE at a time (OUTBOX_CONCURRENCY in flight),
    # each claimed for OUTBOX_LEASE_SECONDS; a failed hand-off waits
    # OUTBOX_RETRY_BASE_SECONDS, doubling up to OUTBOX_RETRY_MAX_SECONDS, and after
    # OUTBOX_MAX_ATTEMPTS the row is dead. With OUTBOX_RELAY_IN_PROCESS the application runs
    # a relay itself; otherwise run `relay`.
    outbox_relay_in_process: bool = True
    outbox_poll_seconds: PositiveFloat = 0.5
    outbox_batch_size: PositiveInt = 100
    # Hand-offs a relay has in flight at once (broker confirms, or handlers in this process).
    outbox_concurrency: PositiveInt = 8
    outbox_lease_seconds: PositiveFloat = 30
    # 12 attempts spread over about 40 minutes: an outage shorter than that loses nothing.
    outbox_max_attempts: PositiveInt = 12
    outbox_retry_base_seconds: PositiveFloat = 2
    outbox_retry_max_seconds: PositiveFloat = 600
    # Sent outbox rows and inbox rows are deleted after this many days.
    outbox_retention_days: PositiveInt = 7
    # How often expired login sessions are deleted.
    session_cleanup_seconds: PositiveInt = 3600

{%- if cookiecutter.messaging != "local" %}
    # The broker the relay publishes to and the worker consumes from. Everything the service
    # declares there is named after BROKER_PREFIX, so that services can share a broker.
{%- if cookiecutter.messaging == "rabbitmq" %}
    broker_url: SecretStr = SecretStr("amqp://guest:guest@localhost:5672/")
{%- else %}
    broker_url: SecretStr = SecretStr("nats://localhost:4222")
{%- endif %}
    broker_prefix: str = Field(default=SLUG, pattern=BROKER_NAME)
    broker_publish_timeout_seconds: PositiveFloat = 10
    # How often a message a consumer failed on is delivered again before it is dead-lettered.
    broker_delivery_limit: PositiveInt = 5
    # The worker touches this file every WORKER_HEARTBEAT_SECONDS while the broker answers,
    # for a liveness probe to check its age; unset, it writes nothing.
    worker_heartbeat_file: Path | None = None
    worker_heartbeat_seconds: PositiveFloat = 15
    # On SIGTERM the worker stops consuming and lets the messages in hand finish for this
    # long; what is not acknowledged by then is delivered again.
    worker_graceful_shutdown_seconds: PositiveFloat = 20
{%- endif %}

    # Email: written to the log (`log`), or sent through an SMTP server (`smtp`).
    email_backend: Literal["log", "smtp"] = "log"
    email_from: str = "{{ cookiecutter.project_slug }}@localhost"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65_535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: PositiveFloat = 10

    @property
    def show_docs(self) -> bool:
        """Serve /docs, /redoc and /openapi.json: on everywhere but production unless set."""
        if self.docs_enabled is not None:
            return self.docs_enabled
        return self.environment != "production"

    @model_validator(mode="before")
    @classmethod
    def _random_secret_for_local_runs(cls, data: object) -> object:
        """Locally, a missing or placeholder key becomes a random one for this process, so
        a checkout started without `.env` never signs tokens with a published value."""
        if not isinstance(data, dict) or data.get("environment", "development") not in (
            LOCAL_ENVIRONMENTS
        ):
            return data
        secret = data.get("secret_key", "")
        raw = secret.get_secret_value() if isinstance(secret, SecretStr) else str(secret)
        return {**data, "secret_key": secrets.token_urlsafe(48)} if _is_weak(raw) else data

    @model_validator(mode="after")
    def _refuse_credentials_for_any_origin(self) -> Self:
        if self.cors_allow_credentials and "*" in self.cors_allow_origins:
            raise ValueError(
                "CORS_ALLOW_CREDENTIALS=true cannot be combined with the origin '*': any site "
                "could then make credentialed requests; list the allowed origins instead"
            )
        return self

    @model_validator(mode="after")
    def _one_place_for_rate_limit_counts(self) -> Self:
        uri = self.rate_limit_storage_uri or ""
        if uri.removeprefix("async+").startswith(("redis", "valkey")):
            raise ValueError(
                "RATE_LIMIT_STORAGE_URI cannot name a Redis: set REDIS_URL instead, and rate "
                "limits count there on the service's own connection"
            )
        if self.redis_url is not None and uri:
            raise ValueError(
                "RATE_LIMIT_STORAGE_URI and REDIS_URL are both set: with REDIS_URL, rate limits "
                "count in Redis; unset RATE_LIMIT_STORAGE_URI"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Self:
        if self.environment in LOCAL_ENVIRONMENTS:
            return self
        for name, secret in (
            ("SECRET_KEY", self.secret_key),
            ("METRICS_TOKEN", self.metrics_token),
        ):
            if secret is not None and _is_weak(secret.get_secret_value()):
                raise ValueError(
                    f"{name} must be a random value of at least {MIN_SECRET_BYTES} bytes "
                    f"when ENVIRONMENT={self.environment}; generate one with "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, built on first use."""
    return Settings()
