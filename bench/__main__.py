"""``python -m bench [part ...]``: run benchmark parts, print and save their figures."""

from __future__ import annotations

import argparse
import logging

from tqdm import tqdm

from . import api, enrichment, extraction, feeds, pairs, pipeline, quality, relations, search
from .results import RESULTS, Run

PARTS = {
    "extraction": extraction,
    "enrichment": enrichment,
    "quality": quality,
    "relations": relations,
    "search": search,
    "api": api,
    "pipeline": pipeline,
    "feeds": feeds,
}
OPTIONAL = {
    # A setting measured in alternating pairs (bench.pairs): only when named.
    "pairs": pairs,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument(
        "parts", nargs="*", choices=[*PARTS, *OPTIONAL, []], help="default: all but pairs"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # The benchmarks start the broker and wait for it; aiokafka logs each refused connection.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    run = Run()
    for name in args.parts or list(PARTS):
        part = PARTS.get(name) or OPTIONAL[name]
        with tqdm(total=part.STEPS, desc=name, unit="step") as progress:
            figures, table = part.run(progress)
        run.add(name, figures, table)
        print("\n" + table)
    print(
        f"\nsaved {run.folder.relative_to(RESULTS.parent.parent)} (latest summary: bench/results/latest.md)"
    )


if __name__ == "__main__":
    main()
