"""Relate settings (``NEWSWIRE_`` environment variables)."""

from typing import ClassVar

from newswire_platform import StoreSettings
from pydantic import Field


class RelateSettings(StoreSettings):
    """What the relate service reads from the environment."""

    service_name: ClassVar[str] = "relate"

    relate_port: int = Field(
        default=8083, description="Port of relate's /healthz, /readyz, /metrics."
    )

    relate_batch_size: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="Most messages handled at once. Refresh requests for the same article or "
        "story within a batch are handled once, so a backlog costs less per article.",
    )

    @property
    def http_port(self) -> int:
        return self.relate_port
