"""``python -m newswire_gateway`` runs the gateway."""

from .main import main

main()
