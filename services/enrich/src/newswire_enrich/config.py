"""Enrich settings (``NEWSWIRE_`` environment variables)."""

from typing import ClassVar

from newswire_platform import ServiceSettings
from pydantic import Field


class EnrichSettings(ServiceSettings):
    """What the enrich service reads from the environment."""

    service_name: ClassVar[str] = "enrich"

    enrich_port: int = Field(
        default=8082, description="Port of enrich's /healthz, /readyz, /metrics."
    )
    reading_words_per_minute: int = Field(
        default=230, ge=50, le=1000, description="Adult silent reading speed for news prose."
    )

    @property
    def http_port(self) -> int:
        return self.enrich_port
