"""The settings every service shares; each service subclasses ServiceSettings once."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import AliasChoices, BeforeValidator, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["CommaList", "KafkaServers", "ServiceSettings", "StoreSettings"]


def _split_commas(value: object) -> object:
    """Validator: 'a, b,,c' -> ['a', 'b', 'c']; lists pass through."""
    return _commas(value) if isinstance(value, str) else value


def _commas(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_commas)]
"""A list read from one comma-separated environment variable."""

KafkaServers = Annotated[
    str,
    Field(
        default="127.0.0.1:9092",
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "NEWSWIRE_KAFKA_BOOTSTRAP_SERVERS"
        ),
        description="Comma-separated host:port list of Kafka brokers.",
    ),
]
"""The brokers, as every Newswire program reads them (with or without the prefix)."""


class ServiceSettings(BaseSettings):
    """Connection, topic and logging settings (``NEWSWIRE_`` prefix).

    ``KAFKA_BOOTSTRAP_SERVERS`` is also read without the prefix, as operators and container
    platforms expect.
    """

    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_", extra="ignore", frozen=True)

    kafka_bootstrap_servers: KafkaServers
    topic_prefix: str = Field(
        default="",
        description="Prepended to every topic name; lets several deployments or test runs share a cluster.",
    )
    topic_partitions: int = Field(
        default=6, ge=1, description="Partitions of topics created at start-up."
    )
    topic_replication_factor: int = Field(
        default=1, ge=1, description="Replication of created topics (3 on a cluster)."
    )
    topic_min_insync_replicas: int | None = Field(
        default=None,
        ge=1,
        description="min.insync.replicas of created topics (2 with replication 3); unset: the broker's default.",
    )
    kafka_max_message_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="Largest message produced or accepted."
    )
    kafka_compression: Literal["none", "lz4", "zstd", "gzip"] = Field(
        default="lz4",
        description="Compression of produced batches: less for the broker to write, send and store.",
    )
    kafka_linger_ms: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="How long a producer waits to fill a batch (messages sent while a request is under way share the next one anyway).",
    )
    kafka_commit_interval_ms: int = Field(
        default=1000,
        ge=0,
        le=60_000,
        description="How often a consumer commits the offsets of the messages it has handled (0: after each message or batch). A process that dies has the last interval's messages handled again by its successor, which every effect tolerates; each commit saved is a write to __consumer_offsets.",
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=2000,
        ge=10,
        le=30_000,
        description="How long the broker holds a consumer's fetch while there is nothing to read. A message that arrives ends the wait at once, so a longer wait only means fewer empty fetches to answer: at 2 s instead of the client's 0.5 s, an idle broker with the four services connected used 19 ms of CPU a second instead of 40.",
    )
    consumer_max_attempts: int = Field(
        default=5, ge=1, description="Attempts at a failing message before it is dead-lettered."
    )
    retry_initial_seconds: float = Field(
        default=0.2, gt=0, description="First retry delay; doubles each time."
    )
    retry_max_seconds: float = Field(default=30.0, gt=0, description="Cap on one retry delay.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] = Field(
        default="json", description="json for machines (the default), console for people."
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop",
        description="uvloop (libuv; the production choice) or asyncio's own loop.",
    )
    http_host: str = Field(
        default="127.0.0.1", description="Bind address of the service's HTTP endpoints."
    )
    otel_exporter: Literal["none", "console", "otlp"] = Field(
        default="none",
        description="OpenTelemetry tracing of every publish and consume: off, spans to stderr, or OTLP/HTTP.",
    )
    otel_endpoint: str = Field(
        default="http://127.0.0.1:4318/v1/traces",
        description="OTLP/HTTP traces endpoint (with otel_exporter=otlp).",
    )

    service_name: ClassVar[str] = "newswire"
    """Set by each service's subclass; names its client id, consumer group and event source."""

    @property
    def http_port(self) -> int:
        """The port of the service's health and metrics endpoints: its ``<service>_port``."""
        return int(getattr(self, f"{self.service_name}_port"))

    @property
    def kafka_bootstrap_list(self) -> list[str]:
        """The brokers as a list: FastStream takes a string for one server, commas and all."""
        return _commas(self.kafka_bootstrap_servers)

    @property
    def event_source(self) -> str:
        """The CloudEvents ``source`` of what this service publishes."""
        return f"/newswire/{self.service_name}"

    @property
    def consumer_group(self) -> str:
        """The Kafka consumer group shared by every instance of this service."""
        return f"{self.topic_prefix}newswire-{self.service_name}"

    def topic(self, name: str) -> str:
        """The deployed name of a contract topic (with the configured prefix)."""
        return f"{self.topic_prefix}{name}"

    def retry_delay(self, attempt: int) -> float:
        """Backoff before retry number ``attempt`` (1-based): doubling, capped."""
        return min(self.retry_max_seconds, self.retry_initial_seconds * 2 ** (attempt - 1))

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _has_servers(cls, value: str) -> str:
        if not _commas(value):
            raise ValueError("at least one Kafka bootstrap server is required")
        return value


class StoreSettings(ServiceSettings):
    """The settings of a service that keeps collections in MongoDB.

    ``MONGODB_URL`` is also read without the prefix. Whether a service has a store is read
    from its settings class (a subclass of this one), so deployments can be checked against it.
    """

    mongodb_url: str = Field(
        default="mongodb://127.0.0.1:27017",
        validation_alias=AliasChoices("MONGODB_URL", "NEWSWIRE_MONGODB_URL"),
        description="MongoDB connection string (real MongoDB or FerretDB); a replica set's may carry replicaSet= and w=majority.",
    )
    mongodb_database: str = Field(
        default="newswire", description="Database holding every collection."
    )
