"""What this instance last wrote of each article's relations, so that a refresh which would
write the very same again costs no store round trip.

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

from .domain.documents import Relations

__all__ = ["WrittenRelations"]


class WrittenRelations:
    """A bounded memory of article id -> digest of the relations last stored by this
    instance, valid for one partition assignment (``assignment()`` changes with each)."""

    def __init__(self, assignment: Callable[[], int], size: int = 100_000) -> None:
        self._assignment = assignment
        self._size = size
        self._epoch = assignment()
        self._digests: OrderedDict[str, int] = OrderedDict()

    def same(self, article_id: str, relations: Relations) -> bool:
        """Whether these are exactly the relations this instance stored for it last."""
        self._check_epoch()
        return self._digests.get(article_id) == _digest(relations)

    def remember(self, article_id: str, relations: Relations) -> None:
        """The store holds these relations for the article now (written here)."""
        self._check_epoch()
        self._digests[article_id] = _digest(relations)
        self._digests.move_to_end(article_id)
        if len(self._digests) > self._size:
            self._digests.popitem(last=False)

    def forget(self, article_id: str) -> None:
        self._digests.pop(article_id, None)

    def _check_epoch(self) -> None:
        if (epoch := self._assignment()) != self._epoch:
            self._digests.clear()
            self._epoch = epoch


def _digest(relations: Relations) -> int:
    # The hash of every field of every related article (all frozen): a thirtieth of the time of
    # hashing their repr, which was 3 % of relate's CPU. A false "same" needs two 64-bit
    # hashes to collide, and only skips one write until the article's next change.
    return hash(relations)
