"""Settings of the ``newswire`` command (``NEWSWIRE_`` environment variables)."""

from __future__ import annotations

from pathlib import Path

from newswire_platform import KafkaServers
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CliSettings"]


class CliSettings(BaseSettings):
    """Where the gateway and Kafka are and which key to use; flags override these.

    ``KAFKA_BOOTSTRAP_SERVERS`` is also read without the prefix, as the services read it.
    """

    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_", extra="ignore")

    gateway_url: str = Field(
        default="http://127.0.0.1:8080", description="Base URL of the gateway."
    )
    api_key: str | None = Field(
        default=None,
        description="API key for writes; falls back to the local stack's .local/run/api-key.",
    )
    local_api_key_file: Path = Field(default=Path(".local/run/api-key"))
    kafka_bootstrap_servers: KafkaServers  # for `newswire dlq`
    topic_prefix: str = Field(
        default="",
        description="The deployment's topic prefix (NEWSWIRE_TOPIC_PREFIX), as the services use it.",
    )

    def resolved_api_key(self) -> str | None:
        if self.api_key:
            return self.api_key
        try:
            return self.local_api_key_file.read_text().strip() or None
        except OSError:
            return None
