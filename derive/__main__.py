"""``python -m derive``: the command line, see :mod:`derive.cli`."""

from derive.cli import main

raise SystemExit(main())
