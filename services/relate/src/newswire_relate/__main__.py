"""``python -m newswire_relate`` runs the relate service."""

from .main import main

main()
