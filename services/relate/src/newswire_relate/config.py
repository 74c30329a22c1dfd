"""Relate settings (``NEWSWIRE_`` environment variables)."""

from typing import ClassVar

from newswire_platform import ServiceSettings
from pydantic import Field


class RelateSettings(ServiceSettings):
    """What the relate service reads from the environment."""

    service_name: ClassVar[str] = "relate"

    relate_port: int = Field(
        default=8083, description="Port of relate's /healthz, /readyz, /metrics."
    )

    @property
    def http_port(self) -> int:
        return self.relate_port
