"""The simulated news web, as data: outlets, their feeds, their stories, as of a moment.

Everything is a function of the settings (seed included) and the simulated time, so a test
can ask what the web served without asking the server, and two runs serve the same web.
Outlets live on loopback addresses of their own (127.1.x.y), so each is a host of its own for
ingest's per-host limits; links to hosts under ``.invalid`` never resolve (RFC 6761).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

__all__ = ["FEED_FORMATS", "PAGE_KINDS", "Feed", "Outlet", "Story", "Web", "WebSettings"]

CORPUS = Path(__file__).parents[2] / "data" / "news-cluster" / "data"

FEED_FORMATS = ("rss2", "atom", "rss091", "rdf", "json")
PAGE_KINDS = (
    # (kind, weight): what fetching a story's page gives.
    ("ok", 52),
    ("slow", 5),  # answers after a few (real) seconds
    ("not_found", 5),  # 404, for good
    ("gone", 3),  # 410, for good
    ("flaky", 8),  # 503 to the first two requests, then the page
    ("throttled", 5),  # 429 with Retry-After to the first request, then the page
    ("paywalled", 5),  # 200 with a login wall and no article
    ("unresolvable", 5),  # on a host that does not resolve
    ("latin1", 7),  # the page in ISO-8859-1, declared in its header
    ("meta_charset", 5),  # windows-1252, declared only in a <meta> tag
)
_SECTIONS = ("world", "politics", "business", "science")


@dataclass(frozen=True)
class WebSettings:
    """The shape of the web and how fast its time runs."""

    seed: int = 7
    outlets: int = 30
    feeds_per_outlet: tuple[int, int] = (2, 4)
    """Fewest and most feeds an outlet has (its front page and sections)."""
    time_scale: float = 60.0
    """Simulated seconds per real second: 60 makes an hour a minute."""
    start: datetime = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
    """The simulated time when the server starts."""
    backlog_hours: float = 6.0
    """How long outlets have been publishing at the start: what a first poll finds."""
    publish_minutes: tuple[float, float] = (20.0, 90.0)
    """Shortest and longest mean (simulated) interval between an outlet's stories."""
    window: int = 25
    """Entries a feed shows: its newest."""
    syndicated_share: float = 0.08
    """Stories that are another outlet's story, republished under their own URL."""
    edited_share: float = 0.1
    """Stories edited after publication (a new title and an update paragraph)."""
    retracted_share: float = 0.03
    """Stories removed from the feeds some time after publication."""
    full_content_share: float = 0.25
    """Feeds that carry each story's full text (no page to fetch): RSS 2.0, Atom and JSON
    Feeds only; RSS 0.91 and RDF have a description only."""
    failing_feed_share: float = 0.05
    """Feeds that answer 500 or a broken document now and then."""
    feed_max_age_minutes: float = 5.0
    """Cache-Control max-age a feed answers with, in simulated minutes."""


@dataclass(frozen=True)
class Outlet:
    index: int
    host: str
    """Its loopback address."""
    name: str
    charset: str
    feeds: tuple[Feed, ...] = ()


@dataclass(frozen=True)
class Feed:
    outlet: int
    path: str
    format: str
    section: str | None
    """None: the front page, every story; else the stories of one section."""
    full_content: bool
    failing: bool

    @property
    def id(self) -> str:
        return f"{self.outlet}{self.path}"


@dataclass(frozen=True)
class Story:
    outlet: int
    number: int
    published: datetime
    section: str
    title: str
    summary: str
    text: str
    page: str
    """One of PAGE_KINDS."""
    path: str
    edited: datetime | None = None
    retracted: datetime | None = None
    syndicated_from: tuple[int, int] | None = None
    """(outlet, number) of the original, for a syndicated copy."""
    authors: tuple[str, ...] = field(default=())

    def is_edited_at(self, now: datetime) -> bool:
        return self.edited is not None and now >= self.edited

    def title_at(self, now: datetime) -> str:
        return f"{self.title} (updated)" if self.is_edited_at(now) else self.title

    def text_at(self, now: datetime) -> str:
        if not self.is_edited_at(now):
            return self.text
        return f"{self.text}\n\nUpdate: this story was updated with new details after publication."

    def shown_at(self, now: datetime) -> bool:
        return self.published <= now and (self.retracted is None or now < self.retracted)


class Web:
    """The whole web for one settings object; stories are made on first use and kept."""

    def __init__(self, settings: WebSettings, port: int) -> None:
        self.settings = settings
        self.port = port
        self._random = random.Random(settings.seed)
        self.outlets = tuple(self._outlet(i) for i in range(settings.outlets))

    # -- places -----------------------------------------------------------------------

    def origin(self, outlet: int) -> str:
        return f"http://{self.outlets[outlet].host}:{self.port}"

    def feed_url(self, feed: Feed) -> str:
        return f"{self.origin(feed.outlet)}{feed.path}"

    def story_url(self, story: Story) -> str:
        if story.page == "unresolvable":
            return f"http://paywall-{story.outlet}.newsweb.invalid{story.path}"
        return f"{self.origin(story.outlet)}{story.path}"

    def feeds(self) -> list[Feed]:
        return [feed for outlet in self.outlets for feed in outlet.feeds]

    def outlet_of_host(self, host: str) -> Outlet | None:
        for outlet in self.outlets:
            if outlet.host == host:
                return outlet
        return None

    # -- time ---------------------------------------------------------------------------

    def stories(self, outlet: int, until: datetime) -> list[Story]:
        """The outlet's stories published up to ``until``, oldest first."""
        return [s for s in self._stories[outlet] if s.published <= until]

    def entries(self, feed: Feed, now: datetime) -> list[Story]:
        """What the feed shows at ``now``: its newest ``window`` stories, newest first."""
        shown = [
            story
            for story in self.stories(feed.outlet, now)
            if story.shown_at(now) and (feed.section is None or story.section == feed.section)
        ]
        return list(reversed(shown))[: self.settings.window]

    def story_at(self, outlet: int, path: str) -> Story | None:
        return self._by_path.get((outlet, path))

    def story(self, outlet: int, number: int) -> Story:
        return self._stories[outlet][number]

    def truth(self, now: datetime) -> list[dict[str, object]]:
        """Every story any feed has shown by ``now`` (assuming a feed is read at least once
        while a story is in its window), with what a reader should eventually get."""
        seen: dict[tuple[int, int], dict[str, object]] = {}
        for feed in self.feeds():
            for story in self._ever_shown(feed, now):
                entry = seen.setdefault(
                    (story.outlet, story.number),
                    {
                        "url": self.story_url(story),
                        "outlet": story.outlet,
                        "number": story.number,
                        "title": story.title_at(now),
                        "edited_at": story.edited.isoformat() if story.edited else None,
                        "retracted_at": story.retracted.isoformat() if story.retracted else None,
                        "feeds": [],
                        "page": story.page,
                        "edited": story.is_edited_at(now),
                        "full_content_feed": False,
                        "syndicated": story.syndicated_from is not None,
                    },
                )
                entry["feeds"].append(self.feed_url(feed))  # type: ignore[attr-defined]
                entry["full_content_feed"] = bool(entry["full_content_feed"]) or feed.full_content
        return list(seen.values())

    def _ever_shown(self, feed: Feed, now: datetime) -> list[Story]:
        # A story leaves a window only when `window` newer ones of the feed have come, which
        # at these rates takes longer than any test runs: every story shown stays counted.
        return [
            story
            for story in self.stories(feed.outlet, now)
            if (feed.section is None or story.section == feed.section)
            and (story.retracted is None or story.retracted > story.published)
        ]

    # -- making it ----------------------------------------------------------------------

    def _outlet(self, index: int) -> Outlet:
        r = self._random
        charset = "iso-8859-1" if index % 7 == 3 else "utf-8"
        count = r.randint(*self.settings.feeds_per_outlet)
        sections = [None, *r.sample(_SECTIONS, count - 1)]
        feeds = []
        for n, section in enumerate(sections):
            fmt = FEED_FORMATS[(index + n) % len(FEED_FORMATS)]
            suffix = {"json": "json", "atom": "atom", "rdf": "rdf"}.get(fmt, "xml")
            name = section or "front"
            feeds.append(
                Feed(
                    outlet=index,
                    path=f"/feeds/{name}.{suffix}",
                    format=fmt,
                    section=section,
                    # RSS 0.91 and RDF items have a description only.
                    full_content=r.random() < self.settings.full_content_share
                    and fmt in ("rss2", "atom", "json"),
                    failing=r.random() < self.settings.failing_feed_share,
                )
            )
        return Outlet(
            index=index,
            host=f"127.1.{index // 250}.{index % 250 + 1}",
            name=f"Outlet {index} News",
            charset=charset,
            feeds=tuple(feeds),
        )

    @cached_property
    def _corpus(self) -> list[dict[str, str]]:
        articles = []
        for path in sorted(CORPUS.glob("*.json")):
            raw = json.loads(path.read_text())
            text = (raw.get("text") or "").strip()
            if len(text) > 600 and raw.get("title"):
                articles.append({"title": raw["title"].strip(), "text": text})
        return articles

    @cached_property
    def _stories(self) -> list[list[Story]]:
        settings = self.settings
        horizon = settings.start + timedelta(days=2)
        first = settings.start - timedelta(hours=settings.backlog_hours)
        made: list[list[Story]] = []
        originals: list[Story] = []  # other outlets' own stories, to syndicate
        for outlet in self.outlets:
            r = random.Random(f"{settings.seed}/{outlet.index}")
            mean = r.uniform(*settings.publish_minutes)
            at = first + timedelta(minutes=r.uniform(0, mean))
            stories: list[Story] = []
            number = 0
            while at < horizon:
                stories.append(self._story(outlet, number, at, r, originals))
                number += 1
                at += timedelta(minutes=r.expovariate(1 / mean) + 1)
            made.append(stories)
            originals.extend(s for s in stories if s.syndicated_from is None)
        return made

    def _story(
        self, outlet: Outlet, number: int, at: datetime, r: random.Random, originals: list[Story]
    ) -> Story:
        settings = self.settings
        source: tuple[int, int] | None = None
        corpus = self._corpus
        base = corpus[_stable(f"{settings.seed}/{outlet.index}/{number}") % len(corpus)]
        if originals and r.random() < settings.syndicated_share:
            original = originals[r.randrange(len(originals))]
            if original.published < at:  # else this one is the outlet's own after all
                source = (original.outlet, original.number)
                base = {"title": original.title, "text": original.text}
        page = _weighted(r, PAGE_KINDS)
        if outlet.charset != "utf-8" and page in ("latin1", "meta_charset"):
            page = "ok"
        text = base["text"]
        edited = (
            at + timedelta(minutes=r.uniform(15, 120))
            if r.random() < settings.edited_share
            else None
        )
        retracted = (
            at + timedelta(minutes=r.uniform(20, 60))
            if r.random() < settings.retracted_share
            else None
        )
        slug = "-".join(base["title"].lower().split()[:6])
        slug = "".join(ch for ch in slug if ch.isalnum() or ch == "-")[:60] or "story"
        return Story(
            outlet=outlet.index,
            number=number,
            published=at,
            section=_SECTIONS[r.randrange(len(_SECTIONS))],
            title=base["title"],
            summary=_first_sentences(text, 2),
            text=text,
            page=page,
            path=f"/{at:%Y/%m/%d}/{slug}-{number}",
            edited=edited,
            retracted=retracted,
            syndicated_from=source,
            authors=(f"Reporter {r.randrange(40)}",),
        )

    @cached_property
    def _by_path(self) -> dict[tuple[int, str], Story]:
        return {(s.outlet, s.path): s for stories in self._stories for s in stories}


def _weighted(r: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    total = sum(weight for _, weight in choices)
    pick = r.uniform(0, total)
    for name, weight in choices:
        pick -= weight
        if pick <= 0:
            return name
    return choices[-1][0]


def _first_sentences(text: str, count: int) -> str:
    sentences = text.replace("\n", " ").split(". ")
    return ". ".join(sentences[:count]).strip()[:400]


def _stable(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
