"""``python -m derive``: the command line, see :mod:`derive.cli`."""

try:
    from derive.cli import main
except KeyboardInterrupt:  # Ctrl-C while starting: the same one line as later
    import sys

    sys.stderr.write("error: interrupted\n")
    raise SystemExit(130) from None

raise SystemExit(main())
