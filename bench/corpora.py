"""The two labelled dev corpora, enriched as the enrich service enriches them (cached).

- ``news-cluster`` (data/news-cluster): 383 articles with text, label = its event
  (``newsCluster.EventId``), topic = its category (the only grouping above the event: its
  TopicId is always 1), published_at = ``date_publish``.
- ``ecbplus-dev`` (data/ecbplus-dev): 772 articles, 35 topics of two same-kind events each,
  label = ``event``, topic = ``topic``; no publication times.

Ingestion times are fixed, so that features (and the cache) do not depend on the day the
corpus is loaded: an article with a publication time is ingested an hour after it, as a
live feed takes articles in (relate's story pass follows ingestion order); one without, at
one fixed time (the story pass then takes them by id).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from newswire_contracts import ArticleEnriched, ArticleIngested, article_id, canonicalize_url

__all__ = ["NAMES", "Corpus", "load"]

ROOT = Path(__file__).parents[1]
CACHE = ROOT / ".local" / "cache"
NEWS_CLUSTER = ROOT / "data" / "news-cluster" / "data"
ECBPLUS = ROOT / "data" / "ecbplus-dev" / "articles.jsonl"
INGESTED = datetime(2024, 1, 1, tzinfo=UTC)
FEED_DELAY = timedelta(hours=1)
NAMES = ("ecbplus-dev", "news-cluster")


@dataclass(frozen=True)
class Corpus:
    name: str
    articles: list[ArticleEnriched]
    label: dict[str, str]
    """Article id -> its gold story."""
    topic: dict[str, str]
    """Article id -> its topic (the unit of cross-validation folds)."""


def _ingested(
    url: str, title: str | None, text: str, published: datetime | None, source: str | None
) -> ArticleIngested:
    url = canonicalize_url(url)
    return ArticleIngested(
        id=article_id(url),
        url=url,
        source=source or "unknown",
        title=(title or "")[:1000],
        text=text,
        published_at=published,
        ingested_at=published + FEED_DELAY if published else INGESTED,
        content_hash="0" * 64,
    )


def _raw(name: str) -> list[tuple[ArticleIngested, str, str]]:
    items = []
    if name == "news-cluster":
        for path in sorted(NEWS_CLUSTER.glob("*.json")):
            r = json.loads(path.read_text())
            if not (r.get("text") or "").strip():
                continue
            published = (
                datetime.fromisoformat(r["date_publish"]).replace(tzinfo=UTC)
                if r.get("date_publish")
                else None
            )
            article = _ingested(
                r["url"], r.get("title"), r["text"], published, r.get("source_domain")
            )
            items.append(
                (article, str(r["newsCluster"]["EventId"]), str(r["newsCluster"]["Category"]))
            )
    elif name == "ecbplus-dev":
        for line in ECBPLUS.read_text().splitlines():
            r = json.loads(line)
            article = _ingested(r["url"], r["title"], r["text"], None, "ecbplus")
            items.append((article, str(r["event"]), str(r["topic"])))
    else:
        raise ValueError(f"unknown corpus {name!r} (one of {', '.join(NAMES)})")
    return items


def enriched_path(name: str, items: list[tuple[ArticleIngested, str, str]] | None = None) -> Path:
    """Where the enriched corpus is cached (by the enrich code, the urls and ingestion times)."""
    items = items if items is not None else _raw(name)
    digest = hashlib.sha256()
    for path in sorted((ROOT / "services" / "enrich" / "src").rglob("*.py")):
        digest.update(path.read_bytes())
    digest.update(json.dumps([(a.url, a.ingested_at.isoformat()) for a, _, _ in items]).encode())
    return CACHE / f"{name}-enriched-{digest.hexdigest()[:16]}.jsonl"


def load(name: str) -> Corpus:
    """The corpus, enriched (cached)."""
    items = _raw(name)
    cache = enriched_path(name, items)
    if not cache.exists():
        from newswire_enrich.adapters.language import LanguageIdentifier
        from newswire_enrich.adapters.nlp import Pipelines
        from newswire_enrich.config import EnrichSettings
        from newswire_enrich.domain.enrichment import Enricher

        enricher = Enricher(Pipelines(EnrichSettings().enrich_spacy_model), LanguageIdentifier())
        enriched = enricher.enrich([a for a, _, _ in items], now=INGESTED)
        CACHE.mkdir(parents=True, exist_ok=True)
        cache.write_text("\n".join(a.model_dump_json() for a in enriched))
    articles = [ArticleEnriched.model_validate_json(x) for x in cache.read_text().splitlines()]
    return Corpus(
        name,
        articles,
        {a.id: label for a, label, _ in items},
        {a.id: topic for a, _, topic in items},
    )
