"""Shared helpers of the notebook sources (notebooks/_nb_*.py); see _build.py."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

__all__ = ["SETUP", "code", "md"]

SETUP = """\
import rcakit
rcakit.set_progress(False)  # stable outputs; remove to see progress bars"""


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip())
