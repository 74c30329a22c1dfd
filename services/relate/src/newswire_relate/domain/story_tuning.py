"""Story settings learned by topic-wise cross-validation (written by bench/tune_stories.py)."""

# Generated: rerun `.venv/bin/python -m bench.tune_stories --write` to learn them again.
# Cross-validated B-cubed F1 when they were learned: ecbplus-dev 0.929, news-cluster 0.906.
TUNED: dict[str, float] = {
    "decay_days": 120.0,
    "join_min": 0.175,
    "merge_min": 0.65,
    "reach_days": 120.0,
    "split_max": 0.6,
    "split_min_size": 4,
    "tokens": 0.2,
}
