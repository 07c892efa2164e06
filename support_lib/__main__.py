"""``python -m support_lib --message "..."``: see ``support_lib.cli``."""

from .cli import main

raise SystemExit(main())
