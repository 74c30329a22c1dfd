"""``python -m newswire_cli`` is the ``newswire`` command."""

from .main import main

raise SystemExit(main())
