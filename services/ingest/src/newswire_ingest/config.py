"""Ingest settings (``NEWSWIRE_`` environment variables)."""

from typing import ClassVar

from newswire_platform import ServiceSettings
from pydantic import Field


class IngestSettings(ServiceSettings):
    """What the ingest service reads from the environment."""

    service_name: ClassVar[str] = "ingest"

    ingest_port: int = Field(
        default=8081, description="Port of ingest's /healthz, /readyz, /metrics."
    )

    @property
    def http_port(self) -> int:
        return self.ingest_port
