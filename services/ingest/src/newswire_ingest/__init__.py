"""Newswire ingest: submissions in, extracted articles out."""
