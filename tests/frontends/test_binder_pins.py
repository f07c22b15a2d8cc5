"""Binder runs what the tests run: binder/requirements.txt pins the installed versions (binder/pin.py writes it)."""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRONT_ENDS = ["jupyterlab", "notebook", "voila", "ipywidgets", "anywidget", "plotly", "ipykernel",
              "jupyterlab-widgets", "widgetsnbextension"]


def _pin_module():
    spec = importlib.util.spec_from_file_location("binder_pin", ROOT / "binder" / "pin.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def tutorial_distributions() -> set[str]:
    """The distributions whose modules the tutorials (notebooks/_nb_*.py cells) import."""
    import nbformat

    modules: set[str] = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:  # IPython magics: not Python
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    owners = metadata.packages_distributions()
    found = set()
    for module in modules - set(sys.stdlib_module_names):
        for dist in owners.get(module, []):
            found.add(_canonical(dist))
    found.discard("rcakit")
    return found


def rcakit_dependencies() -> set[str]:
    """What ``import rcakit`` brings into a tutorial: pyproject's base dependencies."""
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_canonical(Requirement(r).name) for r in project["dependencies"]}


def test_binder_pins_equal_the_installed_versions_of_what_the_tutorials_use() -> None:
    pins = _pin_module().read_pins(ROOT / "binder" / "requirements.txt")
    used = tutorial_distributions()
    assert {"polars", "pandas"} <= used, f"the tutorial imports were not found: {sorted(used)}"
    used |= rcakit_dependencies()
    wrong = {}
    for name in sorted(used | {_canonical(n) for n in FRONT_ENDS}):
        installed = metadata.version(name)
        if pins.get(name) != installed:
            wrong[name] = (pins.get(name), installed)
    assert not wrong, (f"binder/requirements.txt differs from the tested venv (pinned, installed): {wrong}; "
                       "run `.venv/bin/python binder/pin.py` and commit binder/requirements.txt")


def test_binder_installs_rcakit_with_the_extra_the_tests_use() -> None:
    lines = [line.strip() for line in (ROOT / "binder" / "requirements.txt").read_text().splitlines()]
    assert lines[-1] == "-e .[all]"
    assert all("==" in line for line in lines[:-1] if line and not line.startswith("#")), "every other line is a pin"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == f"python-{sys.version_info.major}.{sys.version_info.minor}"


def test_pin_check_reports_a_drift(tmp_path, monkeypatch, capsys) -> None:
    pin = _pin_module()
    target = tmp_path / "requirements.txt"
    pinned = pin.closure()
    assert pinned["plotly"] == metadata.version("plotly") and "rcakit" not in pinned
    drifted = {**pinned, "plotly": "0.0.1"}
    target.write_text(pin.render(drifted))
    monkeypatch.setattr(pin, "TARGET", target)
    assert pin.main(["--check"]) == 1
    assert f"plotly: installed {metadata.version('plotly')}, pinned 0.0.1" in capsys.readouterr().out
    target.write_text(pin.render(pinned))
    assert pin.main(["--check"]) == 0


@pytest.mark.parametrize("extra", ["test", "docs"])
def test_the_all_extra_pins_the_front_ends_and_the_docs_tools(extra) -> None:
    pins = _pin_module().read_pins(ROOT / "binder" / "requirements.txt")
    wanted = {"test": ["notebook", "voila", "playwright"], "docs": ["mkdocs", "mkdocs-material", "mkdocs-jupyter"]}
    assert all(name in pins for name in wanted[extra]), sorted(pins)
