"""The ``asdsim`` command: one small module per subcommand, only argument parsing and printing."""

from asdsim.cli.root import main

__all__ = ["main"]
