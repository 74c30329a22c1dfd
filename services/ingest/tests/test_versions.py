"""Which version a writer publishes: new content, edits, upgrades, and never a second version
for another feed's rendering of the same entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from newswire_ingest.domain.versions import Basis, Candidate, VersionRecord, decide

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC)
LEASE = timedelta(seconds=120)
SUMMARY, FULL, OTHER = (
    Candidate("a" * 64, True),
    Candidate("b" * 64, False),
    Candidate("c" * 64, False),
)


def latest(
    candidate: Candidate,
    *,
    version: int = 1,
    edit_version: int | None = None,
    published: bool = True,
    age: float = 1.0,
) -> VersionRecord:
    return VersionRecord(
        article_id="f" * 32,
        url="https://news.example/a",
        version=version,
        content_hash=candidate.content_hash,
        summary_only=candidate.summary_only,
        edit_version=edit_version or version,
        feed_id=None,
        published=published,
        claimed_at=NOW - timedelta(seconds=age),
        event_id="e",
    )


def action(record: VersionRecord | None, candidate: Candidate, basis: Basis) -> tuple[str, int]:
    decision = decide(record, candidate, basis, now=NOW, lease=LEASE)
    return decision.action, decision.version


def test_the_first_writer_publishes_version_one() -> None:
    assert action(None, SUMMARY, Basis.new()) == ("publish", 1)


def test_a_repeat_is_unchanged_whoever_offers_it() -> None:
    for basis in (Basis.new(), Basis.changed_since(1), Basis.submission()):
        assert action(latest(FULL), FULL, basis) == ("unchanged", 1)


def test_another_feeds_rendering_of_a_known_entry_is_no_new_version() -> None:
    """Two feeds of an outlet: one carries the full text, the other a summary whose page
    gives slightly different text. The second to arrive publishes nothing."""
    assert action(latest(FULL), OTHER, Basis.new()) == ("unchanged", 1)
    assert action(latest(FULL), SUMMARY, Basis.new()) == ("unchanged", 1)


def test_a_summary_is_upgraded_by_a_full_text_from_anyone() -> None:
    for basis in (Basis.new(), Basis.page(1, edit=False), Basis.changed_since(1)):
        decision = decide(latest(SUMMARY), FULL, basis, now=NOW, lease=LEASE)
        assert (decision.action, decision.version) == ("publish", 2)
    upgrade = decide(latest(SUMMARY), FULL, Basis.page(1, edit=False), now=NOW, lease=LEASE)
    assert upgrade.edit_version == 1, "an upgrade is not an edit"


def test_an_edit_is_published_once_by_the_first_feed_to_notice_it() -> None:
    first = decide(latest(FULL), OTHER, Basis.changed_since(1), now=NOW, lease=LEASE)
    assert (first.action, first.version, first.edit_version) == ("publish", 2, 2)
    # The sibling feed noticed the same edit in its own words, after the first published it.
    after = latest(OTHER, version=2, edit_version=2)
    assert action(after, FULL, Basis.changed_since(1)) == ("superseded", 2)


def test_an_edit_after_an_upgrade_is_still_news() -> None:
    upgraded = latest(FULL, version=2, edit_version=1)  # v1 summary, v2 its page
    assert action(upgraded, OTHER, Basis.changed_since(1)) == ("publish", 3)


def test_a_summary_never_replaces_a_full_text_and_an_edit_waits_for_the_page() -> None:
    assert action(latest(FULL), SUMMARY, Basis.changed_since(1)) == ("kept", 1)
    assert action(latest(FULL), SUMMARY, Basis.new()) == ("unchanged", 1)
    # The page, when it comes, carries the edit.
    assert action(latest(FULL), OTHER, Basis.page(1, edit=True)) == ("publish", 2)
    assert action(latest(FULL), OTHER, Basis.page(1, edit=False)) == ("superseded", 1)


def test_a_submission_with_changed_content_is_a_new_version() -> None:
    assert action(latest(FULL, version=3), OTHER, Basis.submission()) == ("publish", 4)


def test_a_claim_under_way_is_waited_for_and_a_stale_one_taken_over() -> None:
    fresh = latest(FULL, published=False, age=5)
    stale = latest(FULL, published=False, age=500)
    assert action(fresh, FULL, Basis.new()) == ("wait", 1)
    assert action(stale, OTHER, Basis.new()) == ("take_over", 1)
