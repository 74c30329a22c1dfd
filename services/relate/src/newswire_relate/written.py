"""What this instance last wrote of each article's relations, so that a refresh which would
write the very same again costs no store round trip, and one that changes only the related
list needs no read of what is stored (refreshes are then written together, see handlers).

An article's arrival asks every article related to it to be written again, since it may now
stand in their lists; most of the time it does not, and the write found nothing changed.
Where many articles tell of one event, that is most refreshes. The memory is only as good
as the belief that nothing else wrote the document since: one writer per article holds
while this instance keeps its partitions, so the memory is dropped whenever the assignment
changes; a restart starts it empty. Without a memory the write decides, as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from .domain.documents import Relations

__all__ = ["Stored", "WrittenRelations"]


class Stored(NamedTuple):
    """What the store holds for an article, as this instance wrote it last."""

    digest: int
    version: int
    story_id: str | None
    duplicate_of: str | None


class WrittenRelations:
    """A bounded memory of article id -> the relations last stored by this instance (a
    digest, and the version, story and duplicate written with them), valid for one partition
    assignment (``assignment()`` changes with each)."""

    def __init__(self, assignment: Callable[[], int], size: int = 100_000) -> None:
        self._assignment = assignment
        self._size = size
        self._epoch = assignment()
        self._stored: OrderedDict[str, Stored] = OrderedDict()

    def same(self, article_id: str, relations: Relations) -> bool:
        """Whether these are exactly the relations this instance stored for it last."""
        stored = self.stored(article_id)
        return stored is not None and stored.digest == _digest(relations)

    def stored(self, article_id: str) -> Stored | None:
        """What the store holds for the article, if this instance wrote it last."""
        self._check_epoch()
        return self._stored.get(article_id)

    def remember(self, article_id: str, relations: Relations, version: int) -> None:
        """The store holds these relations for the article's ``version`` now (written here)."""
        self._check_epoch()
        self._stored[article_id] = Stored(
            _digest(relations), version, relations.story_id, relations.duplicate_of
        )
        self._stored.move_to_end(article_id)
        if len(self._stored) > self._size:
            self._stored.popitem(last=False)

    def forget(self, article_id: str) -> None:
        self._stored.pop(article_id, None)

    def _check_epoch(self) -> None:
        if (epoch := self._assignment()) != self._epoch:
            self._stored.clear()
            self._epoch = epoch


def _digest(relations: Relations) -> int:
    # The hash of every field of every related article (all frozen): a thirtieth of the time of
    # hashing their repr, which was 3 % of relate's CPU. A false "same" needs two 64-bit
    # hashes to collide, and only skips one write until the article's next change.
    return hash(relations)
