"""Subcommands of the ``rcakit`` command line, one module each (see rcakit.cli)."""
