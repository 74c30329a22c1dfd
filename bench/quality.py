"""The quality of enrich's output, measured on labelled data in the repository.

- Entities: precision, recall and F1 against ``data/entities-gold`` (12 articles labelled by
  hand, 237 entities). A found entity matches a gold one of the same type whose name or any
  alias it equals (case-insensitively); "untyped" ignores the type.
- Keywords: on the dev corpus (``data/news-cluster``, 69 labelled events), each article's five
  nearest articles by shared keywords, and the share of them about the same event (P@5);
  for ours and for YAKE, the alternative the issue named.
- Summaries: ROUGE F1 against each dev article's own meta description, for ours and lead-3.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newswire_contracts import ArticleIngested, article_id, canonicalize_url
from newswire_enrich.adapters.language import LanguageIdentifier
from newswire_enrich.adapters.nlp import Pipelines
from newswire_enrich.config import EnrichSettings
from newswire_enrich.domain.enrichment import Enricher
from newswire_enrich.domain.entities import SHOWN_TYPES
from tqdm import tqdm

ROOT = Path(__file__).parents[1]
GOLD = ROOT / "data" / "entities-gold" / "gold.json"
CORPUS = ROOT / "data" / "news-cluster" / "data"
STEPS = 3


def _article(url: str, title: str, text: str) -> ArticleIngested:
    url = canonicalize_url(url)
    return ArticleIngested(
        id=article_id(url),
        url=url,
        source="bench",
        title=title[:1000],
        text=text,
        ingested_at=datetime.now(UTC),
        content_hash="0" * 64,
    )


def _gold_text(source_file: str) -> tuple[str, str, str]:
    path, _, index = source_file.partition("#")
    data = json.loads((ROOT / path).read_text())
    raw = data[int(index)] if index else data
    return raw["url"], raw.get("title") or "", raw["text"]


def entity_scores(enricher: Enricher) -> dict[str, Any]:
    gold = json.loads(GOLD.read_text())["articles"]
    articles = [_article(*_gold_text(item["source_file"])) for item in gold]
    found_all = enricher.enrich(articles, now=datetime.now(UTC))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item, found in zip(gold, found_all, strict=True):
        expected = [e for e in item["entities"] if e["type"] in SHOWN_TYPES]
        forms = [
            ({e["name"].casefold(), *(a.casefold() for a in e.get("aliases", []))}, e["type"])
            for e in expected
        ]
        matched_gold: set[int] = set()
        matched_untyped: set[int] = set()
        for entity in found.entities:
            name = entity.name.casefold()
            hit = next(
                (
                    i
                    for i, (names, kind) in enumerate(forms)
                    if name in names and kind == entity.type
                ),
                None,
            )
            loose = next((i for i, (names, _) in enumerate(forms) if name in names), None)
            counts[entity.type]["found"] += 1
            counts["all"]["found"] += 1
            if hit is not None and hit not in matched_gold:
                matched_gold.add(hit)
                counts[entity.type]["correct"] += 1
                counts["all"]["correct"] += 1
            if loose is not None and loose not in matched_untyped:
                matched_untyped.add(loose)
                counts["untyped"]["correct"] += 1
        for _, kind in forms:
            counts[kind]["expected"] += 1
            counts["all"]["expected"] += 1
        counts["untyped"]["found"] += len(found.entities)
        counts["untyped"]["expected"] += len(forms)
    scores = {}
    for kind, c in counts.items():
        precision = c["correct"] / c["found"] if c["found"] else 0.0
        recall = c["correct"] / c["expected"] if c["expected"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[kind] = {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "expected": c["expected"],
            "found": c["found"],
        }
    return scores


def dev_articles() -> list[tuple[ArticleIngested, dict[str, Any]]]:
    pairs = []
    for path in sorted(CORPUS.glob("*.json")):
        raw = json.loads(path.read_text())
        if (raw.get("language") or "en") == "en" and len(raw.get("text") or "") > 500:
            pairs.append((_article(raw["url"], raw.get("title") or "", raw["text"]), raw))
    return pairs


def keyword_precision(keywords: list[set[str]], events: list[int]) -> float:
    precisions = []
    for i, mine in enumerate(keywords):
        nearest = sorted(
            ((len(mine & other), j) for j, other in enumerate(keywords) if j != i), reverse=True
        )[:5]
        precisions.append(sum(events[j] == events[i] for shared, j in nearest if shared) / 5)
    return statistics.mean(precisions)


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    import yake
    from rouge_score import rouge_scorer

    settings = EnrichSettings()
    enricher = Enricher(Pipelines(settings.enrich_spacy_model), LanguageIdentifier())
    entities = entity_scores(enricher)
    progress.update(1)

    pairs = dev_articles()
    enriched = enricher.enrich([a for a, _ in pairs], now=datetime.now(UTC))
    events = [raw["newsCluster"]["EventId"] for _, raw in pairs]
    ours = keyword_precision([set(e.keywords) for e in enriched], events)
    extractor = yake.KeywordExtractor(lan="en", n=3, top=10)
    started = time.perf_counter()
    yake_keywords = [
        {k.lower() for k, _ in extractor.extract_keywords(f"{a.title}\n\n{a.text}")}
        for a, _ in pairs
    ]
    yake_ms = 1000 * (time.perf_counter() - started) / len(pairs)
    theirs = keyword_precision(yake_keywords, events)
    progress.update(1)

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    nlp = enricher.pipelines.entities
    ours_rouge: dict[str, list[float]] = defaultdict(list)
    lead_rouge: dict[str, list[float]] = defaultdict(list)
    for (article, raw), result in zip(pairs, enriched, strict=True):
        reference = raw.get("description") or ""
        if len(reference) < 40:
            continue
        lead = " ".join(s.text.strip() for s in list(nlp(article.text).sents)[:3])
        for key, value in scorer.score(reference, result.summary).items():
            ours_rouge[key].append(value.fmeasure)
        for key, value in scorer.score(reference, lead).items():
            lead_rouge[key].append(value.fmeasure)
    progress.update(1)

    figures = {
        "entities": entities,
        "keywords_p_at_5": {
            "ours": ours,
            "yake": theirs,
            "yake_ms_per_article": yake_ms,
            "articles": len(pairs),
        },
        "summary_rouge_f1": {
            "ours": {k: statistics.mean(v) for k, v in ours_rouge.items()},
            "lead3": {k: statistics.mean(v) for k, v in lead_rouge.items()},
            "articles": len(ours_rouge["rouge1"]),
        },
    }
    rows = [
        f"| {kind} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1']:.2f} | {s['expected']} |"
        for kind, s in sorted(entities.items(), key=lambda kv: -kv[1]["expected"])
    ]
    table = "\n".join(
        [
            "## Enrichment quality",
            "",
            "Entities against the hand-labelled gold set (`data/entities-gold`, 12 articles):",
            "",
            "| type | precision | recall | F1 | gold entities |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"Keywords, P@5 of same-event neighbours on {len(pairs)} dev articles: ours **{ours:.3f}**, "
            f"YAKE {theirs:.3f} (YAKE {yake_ms:.0f} ms/article).",
            "",
            "Summaries, ROUGE F1 against the articles' meta descriptions "
            f"({figures['summary_rouge_f1']['articles']} articles): "
            + ", ".join(
                f"{k} ours {statistics.mean(ours_rouge[k]):.3f} / lead-3 {statistics.mean(lead_rouge[k]):.3f}"
                for k in ("rouge1", "rouge2", "rougeL")
            )
            + ".",
            "",
        ]
    )
    return figures, table
