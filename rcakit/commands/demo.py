"""``rcakit demo``: open the guided tutorial in JupyterLab (or run it headless and write the report)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from rcakit._paths import repo_root

__all__ = ["add_parser", "run"]

QUICKSTART = "01_quickstart.ipynb"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="open the quickstart tutorial in JupyterLab")
    p.add_argument("--headless", action="store_true",
                   help="do not start JupyterLab: run the quickstart notebook and write its report")
    p.add_argument("--report", default="quickstart-report.html", help="where --headless writes the report")
    p.add_argument("--no-browser", action="store_true", help="start JupyterLab and print its URL only")
    p.add_argument("--port", type=int, default=8888)


def notebooks_dir() -> Path:
    root = repo_root()
    if root is not None and (root / "notebooks").is_dir():
        return root / "notebooks"
    return Path.cwd() / "notebooks"


def run(args: argparse.Namespace) -> int:
    folder = notebooks_dir()
    notebook = folder / QUICKSTART
    if not notebook.is_file():
        print(f"rcakit demo: {notebook} not found; run from a clone of the rcakit repository", file=sys.stderr)
        return 2
    if args.headless:
        from rcakit.commands._headless import run_quickstart

        return run_quickstart(notebook, Path(args.report))
    cmd = [sys.executable, "-m", "jupyter", "lab", str(notebook), f"--ServerApp.root_dir={folder}",
           f"--port={args.port}"]
    if args.no_browser:
        cmd.append("--no-browser")
    print("rcakit demo: starting JupyterLab on", notebook.name, "(Ctrl-C to stop)")
    return subprocess.call(cmd)
