"""Which version of an article a writer publishes, decided against the latest version claimed.

Several writers may offer the same article at once: two feeds of one outlet that share an
entry, polled by two instances; a poll and a submission; a page that arrives for an article
published from its feed's summary. Each version is claimed before it is published (the claim
is the one write the store makes atomic: inserting a new ``_id``), so only one writer
publishes a given version; the others read the claim back and decide again.

What makes a new version:

- new content under the same id from a submission (what a submitter sends is news);
- an edit: an entry that changed in the feed that saw it before, unless another writer has
  already published an edit since that feed last looked (two feeds of an outlet both show
  the edit, in their own words: the first to notice publishes it);
- an upgrade: the page's text (or a feed's full text) for an article that so far has only
  its feed's summary.

Never a new version: another feed's rendering of a known entry, or a summary replacing a
full text (the page is retried instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = [
    "Basis",
    "Candidate",
    "Decision",
    "VersionRecord",
    "claim_id",
    "decide",
]


def claim_id(article_id: str, version: int) -> str:
    """The store key of one version of one article: inserting it is claiming the version."""
    return f"{article_id}:{version}"


@dataclass(frozen=True)
class VersionRecord:
    """A version of an article as claimed in the store, published or still being published."""

    article_id: str
    url: str
    version: int
    content_hash: str
    summary_only: bool
    edit_version: int
    """The latest version at or before this one that was new content (not an upgrade)."""
    feed_id: str | None
    published: bool
    claimed_at: datetime
    event_id: str
    first_ingested_at: datetime | None = None
    """When the article's version 1 was claimed (None on claims made before it was kept)."""

    @property
    def claim_id(self) -> str:
        return claim_id(self.article_id, self.version)


@dataclass(frozen=True)
class Candidate:
    """What a writer would publish: its content and whether it is only a feed's summary."""

    content_hash: str
    summary_only: bool


@dataclass(frozen=True)
class Basis:
    """What the writer knew of the article when it made its candidate.

    - ``submission``: a submitted article; changed content is a new version.
    - ``new``: an entry its feed had not seen; an existing article changes only by an upgrade.
    - ``edit``: an entry that changed since its feed knew version ``version``.
    - ``page``: a page retried in the background, scheduled when ``version`` was the latest;
      ``edit`` when it carries an edit that was held back for want of the page.
    """

    kind: Literal["submission", "new", "edit", "page"]
    version: int = 0
    edit: bool = False

    @classmethod
    def submission(cls) -> Basis:
        return cls("submission")

    @classmethod
    def new(cls) -> Basis:
        return cls("new")

    @classmethod
    def changed_since(cls, version: int) -> Basis:
        return cls("edit", version)

    @classmethod
    def page(cls, version: int, *, edit: bool) -> Basis:
        return cls("page", version, edit)

    def is_edit_after(self, latest: VersionRecord) -> bool:
        """Whether this writer's change is news to ``latest``: nobody published an edit since
        the writer looked."""
        if self.kind == "submission":
            return True
        if self.kind == "edit" or (self.kind == "page" and self.edit):
            return self.version >= latest.edit_version
        return False


Action = Literal["publish", "unchanged", "superseded", "kept", "wait", "take_over"]


@dataclass(frozen=True)
class Decision:
    """``publish`` version ``version`` (with ``edit_version``); or leave the latest as it is:
    ``unchanged`` (same content, or another rendering of it), ``superseded`` (someone else
    published a newer edit), ``kept`` (a summary does not replace a full text: retry the
    page); or ``wait`` for a claim under way, or ``take_over`` one whose writer is gone."""

    action: Action
    version: int
    edit_version: int = 0


def decide(
    latest: VersionRecord | None,
    candidate: Candidate,
    basis: Basis,
    *,
    now: datetime,
    lease: timedelta,
) -> Decision:
    """What a writer with ``candidate`` does, given the latest claimed version."""
    if latest is None:
        return Decision("publish", 1, edit_version=1)
    if not latest.published:
        stale = now - latest.claimed_at > lease
        return Decision("take_over" if stale else "wait", latest.version)
    if candidate.content_hash == latest.content_hash:
        return Decision("unchanged", latest.version)
    upgrade = latest.summary_only and not candidate.summary_only
    downgrade = candidate.summary_only and not latest.summary_only
    edit = basis.is_edit_after(latest)
    following = latest.version + 1
    if downgrade:
        return Decision("kept" if edit else "unchanged", latest.version)
    if edit:
        return Decision("publish", following, edit_version=following)
    if upgrade:
        return Decision("publish", following, edit_version=latest.edit_version)
    if basis.kind in ("edit", "page"):
        return Decision("superseded", latest.version)
    return Decision("unchanged", latest.version)
