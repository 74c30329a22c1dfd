"""Ingest's rules, models and state transitions: pure, no I/O."""
