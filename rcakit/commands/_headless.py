"""Run a tutorial notebook without a browser and keep what it produced (``rcakit demo --headless``)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = ["run_quickstart"]


STATIC_REPORT = """\
# added by `rcakit demo --headless`: the report as static HTML (the widgets above need a live kernel)
from rcakit.report import Report as _Report
from IPython.display import HTML as _HTML
_report = globals().get("report")
_HTML(_report.to_html(standalone=False)) if isinstance(_report, _Report) else None"""


def _first_error(nb: NotebookNode) -> tuple[int, str] | None:
    """(1-based code-cell number, 'EName: value') of the first error output, or None."""
    number = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        number += 1
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return number, f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    return None


def run_quickstart(notebook: Path, report: Path, *, timeout: float = 600, startup_timeout: float = 180) -> int:
    """Execute ``notebook`` top to bottom in a fresh kernel and write it as HTML to ``report``.

    The incident report (the notebook's ``report``) is appended as static HTML, and widget state is left
    out of the page (it needs a CDN to render and weighs tens of MB). The kernel runs in a temporary copy of the notebook's folder, so files the tutorial writes (its review
    session) do not land in the checkout. The HTML is written even when a cell fails, with the run stopped
    at that cell; the return code is 0 when every cell ran, 1 when one failed or timed out.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbconvert import HTMLExporter

    os.environ.setdefault("RCAKIT_PROGRESS", "0")
    os.environ.setdefault("TQDM_DISABLE", "1")
    report = report.resolve()
    nb: NotebookNode = nbformat.read(notebook, as_version=4)  # type: ignore[no-untyped-call]  # unannotated in nbformat
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    # Widgets need a live kernel (or a CDN) to show anything in a saved page: add the incident report as
    # static HTML at the end, from the notebook's ``report`` if it made one.
    nb.cells.append(nbformat.v4.new_code_cell(  # type: ignore[no-untyped-call]  # unannotated in nbformat
        STATIC_REPORT, metadata={"tags": ["rcakit-headless"]}))
    failure: str | None = None
    started = time.monotonic()
    print(f"rcakit demo --headless: running {notebook.name} ({code_cells} code cells) ...", flush=True)
    with tempfile.TemporaryDirectory(prefix="rcakit-demo-") as tmp:
        workdir = Path(tmp) / notebook.parent.name
        shutil.copytree(notebook.parent, workdir, ignore=shutil.ignore_patterns(
            "__pycache__", ".ipynb_checkpoints", "*.rcakit-review.json"))
        client = NotebookClient(nb, timeout=int(timeout), startup_timeout=int(startup_timeout),
                                kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
        try:
            client.execute()
        except CellExecutionError:
            found = _first_error(nb)
            failure = (f"code cell {found[0]} of {code_cells} raised {found[1]}" if found
                       else "a cell raised an error")
        except CellTimeoutError:
            failure = f"a cell ran longer than {timeout:g} s and was stopped"
        except DeadKernelError as exc:
            failure = f"the kernel died: {exc}"
        except RuntimeError as exc:  # kernel did not start (nbclient raises RuntimeError on startup timeout)
            failure = f"the kernel could not run the notebook: {exc}"
    # Widget state holds every chart's data (tens of MB for the quickstart) and still needs a CDN to render;
    # the page keeps each widget's text fallback and the static report instead.
    nb.metadata.pop("widgets", None)
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_input_tags = {"rcakit-headless"}
    exporter = HTMLExporter(config=config)  # type: ignore[no-untyped-call]  # unannotated in nbconvert
    body, _ = exporter.from_notebook_node(nb)
    report.parent.mkdir(parents=True, exist_ok=True)
    from rcakit._io import atomic_write_text

    atomic_write_text(report, body)
    elapsed = time.monotonic() - started
    if failure is not None:
        print(f"rcakit demo --headless: {notebook.name} failed: {failure}; "
              f"the notebook up to that cell is in {report}", file=sys.stderr, flush=True)
        return 1
    print(f"rcakit demo --headless: all {code_cells} code cells ran in {elapsed:.0f} s; wrote {report}", flush=True)
    return 0
