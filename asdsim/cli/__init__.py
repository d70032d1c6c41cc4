"""The ``asdsim`` command: one small module per subcommand, only argument parsing and printing."""

from asdsim.cli.root import build_parser, main

__all__ = ["build_parser", "main"]
