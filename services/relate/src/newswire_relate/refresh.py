"""Refresh requests between relate instances (internal topic ``relate.refresh``).

When an article's arrival changes another article's related list or story, or a story,
the instance that handled it asks the owner of that article or story to write it again.
The request is keyed like the article (a story's id is its earliest article's id), so it
lands in the partition whose owner alone writes that document.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from newswire_contracts.events import Event
from pydantic import AwareDatetime, Field

__all__ = ["REFRESH_TOPIC", "RelateRefresh"]

REFRESH_TOPIC = "relate.refresh"


class RelateRefresh(Event):
    """Command: recompute and store this article's relations, or this story."""

    event_type: ClassVar[str] = "newswire.relate.refresh.v1"
    topic: ClassVar[str] = REFRESH_TOPIC

    kind: Literal["article", "story"]
    id: str = Field(pattern=r"^[0-9a-f]{32}$")
    requested_at: AwareDatetime

    def key(self) -> str:
        return self.id
