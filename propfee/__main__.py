"""``python -m propfee``: the command line."""

from propfee.cli import main

main()
