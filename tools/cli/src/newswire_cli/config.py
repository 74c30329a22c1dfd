"""Settings of the ``newswire`` command (``NEWSWIRE_`` environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CliSettings"]


class CliSettings(BaseSettings):
    """Where the gateway is and which key to use; flags override these."""

    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_", extra="ignore")

    gateway_url: str = Field(
        default="http://127.0.0.1:8080", description="Base URL of the gateway."
    )
    api_key: str | None = Field(
        default=None,
        description="API key for writes; falls back to the local stack's .local/run/api-key.",
    )
    local_api_key_file: Path = Field(default=Path(".local/run/api-key"))

    def resolved_api_key(self) -> str | None:
        if self.api_key:
            return self.api_key
        try:
            return self.local_api_key_file.read_text().strip() or None
        except OSError:
            return None
