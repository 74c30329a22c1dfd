"""``python -m newswire_enrich`` runs the enrich service."""

from .main import main

main()
