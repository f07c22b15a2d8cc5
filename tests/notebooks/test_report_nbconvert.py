"""A report shown in a notebook keeps its charts through `jupyter nbconvert --to html`, drawn offline in chromium."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from tests._browser import CHROMIUM

pytestmark = [pytest.mark.notebook, pytest.mark.slow, pytest.mark.timeout(600)]

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CELLS = [
    "import rcakit\nrcakit.set_progress(False)",
    "analysis = rcakit.analyze(rcakit.sample_incident('sim-S-gpu-throttle'), llm=None)\n"
    "report = analysis.report\nreport",
]


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> Path:
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    folder = tmp_path_factory.mktemp("nbconvert")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    body, _ = HTMLExporter().from_notebook_node(nb)
    page = folder / "report.html"
    page.write_text(body, encoding="utf-8")
    return page


def test_the_converted_page_holds_plotly_and_the_three_charts(converted) -> None:
    page = converted.read_text(encoding="utf-8")
    assert page.count("window.Plotly = Plotly") == 1
    assert re.findall(r"data-figure=[\"'](\w+)", page) == ["series", "graph", "scores"]


@pytest.mark.browser
def test_the_converted_page_draws_the_charts_offline(converted) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; make test does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            # offline: every request that is not the file itself fails
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else route.abort())
            page.goto(converted.as_uri())
            page.wait_for_function("document.querySelectorAll('.rcakit-plot .main-svg').length >= 3", timeout=60_000)
            drawn = page.evaluate("""[...document.querySelectorAll('.rcakit-figure')].map((f) => ({
                name: f.dataset.figure, traces: (f.querySelector('.rcakit-plot').data || []).length,
                height: f.querySelector('.rcakit-plot').getBoundingClientRect().height}))""")
            shot = converted.with_suffix(".png")
            page.screenshot(path=str(shot), full_page=True)
            print(f"\nnbconvert page: {converted}, screenshot {shot}")
        finally:
            browser.close()
    assert [d["name"] for d in drawn] == ["series", "graph", "scores"]
    assert all(d["traces"] > 0 and d["height"] > 200 for d in drawn), drawn
    assert not [e for e in errors if "Plotly" in e], errors
    assert os.path.getsize(converted) < 12_000_000
