"""PNG plots of one run's figures, drawn from what the parts measured (whichever ran)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt


def draw(parts: dict[str, dict[str, Any]], folder: Path) -> list[tuple[str, str]]:
    """Draw what the figures allow; (file name, caption) of each plot written."""
    drawn = []
    if "pipeline" in parts:
        drawn.append(_latency(parts["pipeline"], folder / "latency.png"))
        drawn.append(_throughput(parts["pipeline"], folder / "throughput.png"))
    if "relations" in parts:
        drawn.append(_relate_scale(parts["relations"], folder / "relate-scale.png"))
        if "cv" in parts["relations"]:
            drawn.append(_stories(parts["relations"], folder / "relate-stories.png"))
    return drawn


def _latency(figures: dict[str, Any], path: Path) -> tuple[str, str]:
    runs = figures["latency"]
    rates = [r["offered_per_second"] for r in runs]
    fig, ax = plt.subplots(figsize=(6, 4))
    for key in ("p50", "p90", "p99", "max"):
        ax.plot(rates, [r["end_to_end_seconds"][key] for r in runs], marker="o", label=key)
    ax.set_ylim(bottom=0)
    _finish(
        fig,
        ax,
        path,
        "End-to-end latency against offered rate",
        "offered rate (articles/s)",
        "submission to readable (s)",
    )
    return path.name, "End-to-end latency percentiles against offered rate"


def _throughput(figures: dict[str, Any], path: Path) -> tuple[str, str]:
    ramp = figures["ramp"]
    offered = [s["offered_per_second"] for s in ramp]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(offered, offered, linestyle="--", color="grey", label="offered")
    for stage, label in (
        ("articles.ingested", "ingested"),
        ("articles.enriched", "enriched"),
        ("articles.related", "readable"),
    ):
        ax.plot(offered, [s["output_per_second"][stage] for s in ramp], marker="o", label=label)
    ax.axvline(figures["sustained_per_second"], color="black", alpha=0.4, label="highest sustained")
    _finish(
        fig,
        ax,
        path,
        "Throughput per stage during the ramp",
        "offered rate (articles/s)",
        "output of the stage (articles/s)",
    )
    return path.name, "Throughput per stage against offered rate"


def _relate_scale(figures: dict[str, Any], path: Path) -> tuple[str, str]:
    fig, ax = plt.subplots(figsize=(6, 4))
    for engine in ("now", "baseline"):
        runs = figures["scale"].get(engine)
        if not runs:
            continue
        rows = sorted((int(n), r) for n, r in runs.items() if n.isdigit())
        sizes = [n for n, _ in rows]
        for key, label in (("mean_ms", "mean"), ("p99_ms", "p99")):
            ax.plot(sizes, [r[key] for _, r in rows], marker="o", label=f"{engine} {label}")
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    _finish(
        fig,
        ax,
        path,
        "Relate cost against corpus size",
        "articles stored",
        "relate cost per article (ms)",
    )
    return path.name, "Relate cost per article against corpus size, now and the baseline commit"


def _stories(figures: dict[str, Any], path: Path) -> tuple[str, str]:
    names = list(figures["cv"])
    fig, ax = plt.subplots(figsize=(6, 4))
    width = 0.35
    for shift, (key, label) in enumerate(
        (("cv_components_before", "connected components (before)"), ("cv", "story pass (now)"))
    ):
        values = [figures[key][n]["f1"] for n in names]
        ax.bar([i + (shift - 0.5) * width for i in range(len(names))], values, width, label=label)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0.5, 1.0)
    _finish(
        fig, ax, path, "Stories: cross-validated B-cubed F1", "dev corpus", "B-cubed F1 (held out)"
    )
    return path.name, "Cross-validated story B-cubed F1, before and now"


def _finish(fig: Any, ax: Any, path: Path, title: str, xlabel: str, ylabel: str) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
