"""Enrich's rules: language decision, entities, keywords, summary, reading time, assembly."""
