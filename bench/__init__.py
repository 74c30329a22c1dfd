"""Newswire's benchmarks: ``make bench`` (``python -m bench [part ...]``)."""
