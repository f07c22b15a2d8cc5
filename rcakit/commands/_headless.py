"""Run a tutorial notebook without a browser and keep what it produced."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["run_quickstart"]


def run_quickstart(notebook: Path, report: Path) -> int:
    """Execute ``notebook`` top to bottom in a fresh kernel; write it as HTML to ``report``."""
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    os.environ.setdefault("RCAKIT_PROGRESS", "0")
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}})
    print(f"rcakit demo --headless: running {notebook.name} ...", flush=True)
    client.execute()
    body, _ = HTMLExporter().from_notebook_node(nb)
    report.write_text(body, encoding="utf-8")
    print(f"rcakit demo --headless: wrote {report.resolve()}", file=sys.stdout)
    return 0
