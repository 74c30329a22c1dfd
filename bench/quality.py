"""The quality of enrich's output, measured on labelled data in the repository.

- Entities: precision, recall and F1 against ``data/entities-gold`` (12 articles labelled by
  hand, 237 entities). A found entity matches a gold one of the same type whose name or any
  alias it equals (case-insensitively); "untyped" ignores the type.
- Keywords: on the dev corpus (``data/news-cluster``, 69 labelled events), each article's five
  nearest articles by shared keywords, and the share of them about the same event (P@5);
  for ours and for YAKE, the alternative the issue named.
- Summaries: ROUGE F1 against each dev article's own meta description, for ours and lead-3.

The baseline commit's enricher (bench.baseline) runs on the same texts from its git worktree,
in its own interpreter, and its output is scored by the same code here: the figures of both
come from one run.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from newswire_contracts import ArticleEnriched, ArticleIngested, article_id, canonicalize_url
from newswire_enrich.adapters.language import LanguageIdentifier
from newswire_enrich.adapters.nlp import Pipelines
from newswire_enrich.config import EnrichSettings
from newswire_enrich.domain.enrichment import Enricher
from newswire_enrich.domain.entities import SHOWN_TYPES
from tqdm import tqdm

from .baseline import BaselineSettings, baseline_python

ROOT = Path(__file__).parents[1]
GOLD = ROOT / "data" / "entities-gold" / "gold.json"
CORPUS = ROOT / "data" / "news-cluster" / "data"
STEPS = 4

MIN_REFERENCE_CHARS = 40
"""Shorter meta descriptions are not summaries to score against."""

Output = dict[str, Any]
"""What the scores read of an enriched article: entities ([name, type]), keywords, summary."""


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


def _text_of(raw: dict[str, Any]) -> dict[str, str]:
    """What an enricher is given of a corpus article (url, title, text)."""
    return {"url": raw["url"], "title": raw.get("title") or "", "text": raw["text"]}


def _gold_text(source_file: str) -> dict[str, str]:
    path, _, index = source_file.partition("#")
    data = json.loads((ROOT / path).read_text())
    return _text_of(data[int(index)] if index else data)


def _output(enriched: ArticleEnriched) -> Output:
    return {
        "entities": [[e.name, e.type] for e in enriched.entities],
        "keywords": list(enriched.keywords),
        "summary": enriched.summary,
    }


def outputs_by(enricher: Enricher, texts: list[dict[str, str]]) -> list[Output]:
    """What this checkout's enricher makes of the texts (url, title, text)."""
    found = enricher.enrich([_article(**t) for t in texts], now=datetime.now(UTC))
    return [_output(e) for e in found]


# Run by the baseline commit's interpreter in its worktree: its enricher, built as its enrich
# service builds it, on the same texts. Only what both commits share is used (the Enricher's
# constructor and ``enrich``, the event fields read below).
_BASELINE_SCRIPT = """
import json, sys
from datetime import UTC, datetime
from newswire_contracts import ArticleIngested, article_id, canonicalize_url
from newswire_enrich.adapters.language import LanguageIdentifier
from newswire_enrich.adapters.nlp import Pipelines
from newswire_enrich.config import EnrichSettings
from newswire_enrich.domain.enrichment import Enricher

source, target = sys.argv[1:3]
texts = json.loads(open(source).read())
articles = []
for t in texts:
    url = canonicalize_url(t["url"])
    articles.append(ArticleIngested(
        id=article_id(url), url=url, source="bench", title=t["title"][:1000], text=t["text"],
        ingested_at=datetime.now(UTC), content_hash="0" * 64))
enricher = Enricher(Pipelines(EnrichSettings().enrich_spacy_model), LanguageIdentifier())
found = enricher.enrich(articles, now=datetime.now(UTC))
out = [{"entities": [[e.name, e.type] for e in f.entities], "keywords": list(f.keywords),
        "summary": f.summary} for f in found]
open(target, "w").write(json.dumps(out))
"""


def outputs_of(revision: str, texts: list[dict[str, str]]) -> list[Output]:
    """What ``revision``'s enricher makes of the texts, run from its git worktree."""
    python = baseline_python(revision)
    with tempfile.TemporaryDirectory(prefix="quality-") as folder:
        source, target = Path(folder) / "texts.json", Path(folder) / "outputs.json"
        source.write_text(json.dumps(texts))
        result = subprocess.run(
            [str(python), "-c", _BASELINE_SCRIPT, str(source), str(target)],
            cwd=python.parents[2],  # the worktree: its packages, its data
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{revision}'s enricher failed:\n{result.stderr[-4000:]}")
        outputs: list[Output] = json.loads(target.read_text())
    return outputs


def gold_texts() -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    gold = json.loads(GOLD.read_text())["articles"]
    return gold, [_gold_text(item["source_file"]) for item in gold]


def entity_scores(gold: list[dict[str, Any]], found_all: list[Output]) -> dict[str, Any]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for item, found in zip(gold, found_all, strict=True):
        expected = [e for e in item["entities"] if e["type"] in SHOWN_TYPES]
        forms = [
            ({e["name"].casefold(), *(a.casefold() for a in e.get("aliases", []))}, e["type"])
            for e in expected
        ]
        matched_gold: set[int] = set()
        matched_untyped: set[int] = set()
        for found_name, found_type in found["entities"]:
            name = found_name.casefold()
            hit = next(
                (
                    i
                    for i, (names, kind) in enumerate(forms)
                    if name in names and kind == found_type
                ),
                None,
            )
            loose = next((i for i, (names, _) in enumerate(forms) if name in names), None)
            counts[found_type]["found"] += 1
            counts["all"]["found"] += 1
            if hit is not None and hit not in matched_gold:
                matched_gold.add(hit)
                counts[found_type]["correct"] += 1
                counts["all"]["correct"] += 1
            if loose is not None and loose not in matched_untyped:
                matched_untyped.add(loose)
                counts["untyped"]["correct"] += 1
        for _, kind in forms:
            counts[kind]["expected"] += 1
            counts["all"]["expected"] += 1
        counts["untyped"]["found"] += len(found["entities"])
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


def dev_articles() -> list[dict[str, Any]]:
    raws = []
    for path in sorted(CORPUS.glob("*.json")):
        raw = json.loads(path.read_text())
        if (raw.get("language") or "en") == "en" and len(raw.get("text") or "") > 500:
            raws.append(raw)
    return raws


def keyword_precision(keywords: list[set[str]], events: list[int]) -> float:
    precisions = []
    for i, mine in enumerate(keywords):
        nearest = sorted(
            ((len(mine & other), j) for j, other in enumerate(keywords) if j != i), reverse=True
        )[:5]
        precisions.append(sum(events[j] == events[i] for shared, j in nearest if shared) / 5)
    return statistics.mean(precisions)


def summary_rouge(
    scorer: Any, raws: list[dict[str, Any]], summaries: list[str]
) -> dict[str, float]:
    """Mean ROUGE F1 of the summaries against the articles' meta descriptions (those long
    enough to be one)."""
    scores: dict[str, list[float]] = defaultdict(list)
    for raw, summary in zip(raws, summaries, strict=True):
        reference = raw.get("description") or ""
        if len(reference) < MIN_REFERENCE_CHARS:
            continue
        for key, value in scorer.score(reference, summary).items():
            scores[key].append(value.fmeasure)
    return {k: statistics.mean(v) for k, v in scores.items()}


def scored(
    gold: list[dict[str, Any]], raws: list[dict[str, Any]], found: list[Output], scorer: Any
) -> dict[str, Any]:
    """One enricher's figures from its outputs for the gold set then the dev set: entities on
    the gold set, keyword P@5 and ROUGE on the dev set."""
    gold_found, dev_found = found[: len(gold)], found[len(gold) :]
    events = [raw["newsCluster"]["EventId"] for raw in raws]
    return {
        "entities": entity_scores(gold, gold_found),
        "keywords_p_at_5": keyword_precision([set(o["keywords"]) for o in dev_found], events),
        "summary_rouge_f1": summary_rouge(scorer, raws, [o["summary"] for o in dev_found]),
    }


def run(progress: tqdm[Any]) -> tuple[dict[str, Any], str]:
    import yake
    from rouge_score import rouge_scorer

    baseline = BaselineSettings().baseline
    gold, gold_inputs = gold_texts()
    raws = dev_articles()
    dev_inputs = [_text_of(raw) for raw in raws]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)

    settings = EnrichSettings()
    enricher = Enricher(Pipelines(settings.enrich_spacy_model), LanguageIdentifier())
    inputs = gold_inputs + dev_inputs
    now = scored(gold, raws, outputs_by(enricher, inputs), scorer)
    progress.update(1)

    events = [raw["newsCluster"]["EventId"] for raw in raws]
    extractor = yake.KeywordExtractor(lan="en", n=3, top=10)
    started = time.perf_counter()
    yake_keywords = [
        {k.lower() for k, _ in extractor.extract_keywords(f"{t['title']}\n\n{t['text']}")}
        for t in dev_inputs
    ]
    yake_ms = 1000 * (time.perf_counter() - started) / len(dev_inputs)
    theirs = keyword_precision(yake_keywords, events)
    progress.update(1)

    nlp = enricher.pipelines.entities
    leads = [" ".join(s.text.strip() for s in list(nlp(t["text"]).sents)[:3]) for t in dev_inputs]
    lead_rouge = summary_rouge(scorer, raws, leads)
    progress.update(1)

    then: dict[str, Any] | None = None
    if baseline != "none":
        then = {"commit": baseline, **scored(gold, raws, outputs_of(baseline, inputs), scorer)}
    progress.update(1)

    entities = now["entities"]
    figures: dict[str, Any] = {
        "entities": entities,
        "keywords_p_at_5": {
            "ours": now["keywords_p_at_5"],
            "yake": theirs,
            "yake_ms_per_article": yake_ms,
            "articles": len(raws),
        },
        "summary_rouge_f1": {
            "ours": now["summary_rouge_f1"],
            "lead3": lead_rouge,
            "articles": sum(
                len(raw.get("description") or "") >= MIN_REFERENCE_CHARS for raw in raws
            ),
        },
    }
    if then is not None:
        figures["baseline"] = then
    rows = [
        f"| {kind} | {s['precision']:.2f} | {s['recall']:.2f} | {s['f1']:.2f} | {s['expected']} |"
        for kind, s in sorted(entities.items(), key=lambda kv: -kv[1]["expected"])
    ]
    ours_rouge = now["summary_rouge_f1"]
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
            f"Keywords, P@5 of same-event neighbours on {len(raws)} dev articles: ours "
            f"**{now['keywords_p_at_5']:.3f}**, YAKE {theirs:.3f} (YAKE {yake_ms:.0f} ms/article).",
            "",
            "Summaries, ROUGE F1 against the articles' meta descriptions "
            f"({figures['summary_rouge_f1']['articles']} articles): "
            + ", ".join(
                f"{k} ours {ours_rouge[k]:.3f} / lead-3 {lead_rouge[k]:.3f}"
                for k in ("rouge1", "rouge2", "rougeL")
            )
            + ".",
            "",
            *(baseline_rows(now, then) if then is not None else []),
        ]
    )
    return figures, table


def headline(figures: dict[str, Any]) -> dict[str, float]:
    return {
        "entity F1 (gold set)": figures["entities"]["all"]["f1"],
        "entity precision": figures["entities"]["all"]["precision"],
        "entity recall": figures["entities"]["all"]["recall"],
        "keyword P@5 (dev)": figures["keywords_p_at_5"],
        **{f"summary {k.upper()} F1 (dev)": v for k, v in figures["summary_rouge_f1"].items()},
    }


def baseline_rows(now: dict[str, Any], then: dict[str, Any]) -> list[str]:
    """Now beside the baseline commit's enricher, scored by the same code on the same texts."""
    ours, theirs = headline(now), headline(then)
    return [
        f"Against the baseline commit `{then['commit']}`, its enricher run from its git worktree "
        "on the same texts in this run, scored by the same code:",
        "",
        "| measure | now | baseline | now − baseline |",
        "|---|---:|---:|---:|",
        *(
            f"| {name} | {ours[name]:.3f} | {theirs[name]:.3f} | {ours[name] - theirs[name]:+.3f} |"
            for name in ours
        ),
        "",
    ]
