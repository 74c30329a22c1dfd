"""``python -m newswire_ingest`` runs the ingest service."""

from .main import main

main()
