"""Write the tutorial notebooks from their cell sources: ``python notebooks/_build.py``.

Each ``notebooks/_nb_*.py`` holds one notebook's cells (``NAME``, ``CELLS``). The notebooks are committed
without outputs; the test suite executes every one of them (nbval) and the README's demo opens 01. Edit
the cells in the sources, not in the .ipynb files, so that reviews see code.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_notebook

HERE = Path(__file__).resolve().parent


def write(name: str, cells: list[nbformat.NotebookNode]) -> Path:
    # Stable cell ids, so that rebuilding an unchanged notebook changes no byte.
    stem = Path(name).stem.split("_")[0]
    for i, cell in enumerate(cells):
        cell["id"] = f"nb{stem}-{i:02d}"
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    path = HERE / name
    nbformat.write(nb, path)
    return path


def main() -> None:
    sys.path.insert(0, str(HERE))
    for source in sorted(HERE.glob("_nb_*.py")):
        module = importlib.import_module(source.stem)
        print("wrote", write(module.NAME, module.CELLS))


if __name__ == "__main__":
    main()
