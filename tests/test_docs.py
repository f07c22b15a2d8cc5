"""The documentation site builds with warnings as errors (`mkdocs build --strict`), with every task page."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TASK_PAGES = ["tasks/otel-data", "tasks/own-graph", "llm", "tasks/many-incidents", "tasks/dashboard",
              "tasks/report", "tasks/frontends"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_mkdocs_strict_build_has_every_task_page_and_tutorial(tmp_path) -> None:
    pytest.importorskip("mkdocs", reason="pip install 'rcakit[docs]' (make test installs it)")
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=500, env=env)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    for page in TASK_PAGES:
        assert (site / page / "index.html").is_file(), f"no page {page}"
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        page = site / "tutorials" / notebook.stem / "index.html"
        assert page.is_file(), f"the tutorial {notebook.name} is not in the site"
    assert "IncidentDashboard" in (site / "tutorials" / "06_incident_dashboard" / "index.html").read_text()
    assert not (site / "HELPERS").exists() and "HELPERS" not in (site / "index.html").read_text()
    assert not list(site.rglob("_nb_*")), "the notebooks' sources are not pages"
    # the build wrote nothing into the checkout
    assert not (ROOT / "docs" / "tutorials" / ".ipynb_checkpoints").exists()


def _hooks():
    spec = importlib.util.spec_from_file_location("rcakit_docs_hooks", ROOT / "docs" / "_hooks.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_pages_of_other_parts_not_yet_written_are_left_out_not_linked(tmp_path) -> None:
    hooks = _hooks()
    (tmp_path / "scale.md").write_text("# Scale\n")
    nav = [{"Home": "index.md"}, {"Reference": [{"Formats": "formats.md"}, {"Scale": "scale.md"}]},
           {"Only": [{"Formats": "formats.md"}]}]
    config = hooks.on_config({"docs_dir": str(tmp_path), "nav": nav})
    assert config["nav"] == [{"Home": "index.md"}, {"Reference": [{"Scale": "scale.md"}]}]
    text = "see [the formats](formats.md#otlp) and [scale](scale.md), [other](../formats.md)"
    assert hooks.on_page_markdown(text, None, config, None) == "see the formats and [scale](scale.md), other"
