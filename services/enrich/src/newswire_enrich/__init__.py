"""Newswire enrich: ingested articles in, enriched articles out."""
