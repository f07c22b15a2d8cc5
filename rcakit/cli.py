"""The ``rcakit`` command line: ``rcakit --version``, ``rcakit demo``, ``rcakit analyze ...``.

Subcommands live in ``rcakit.commands.<name>`` modules with ``add_parser(subparsers)`` and
``run(args) -> int`` so that each part of the toolkit adds its own without touching this file.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from rcakit._version import __version__

__all__ = ["main"]


def _commands() -> list[str]:
    here = Path(__file__).parent / "commands"
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rcakit", description="Incident root-cause analysis in Jupyter.")
    parser.add_argument("--version", action="version", version=f"rcakit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _commands():
        module = importlib.import_module(f"rcakit.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    module = importlib.import_module(f"rcakit.commands.{args.command.replace('-', '_')}")
    return int(module.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
