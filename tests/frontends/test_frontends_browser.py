"""The incident dashboard (notebooks/06) in JupyterLab 4, Notebook 7 and Voila, in Debian's headless chromium.

For each front end the test starts its own server (a free port, a token, a temporary copy of the notebook,
its own Jupyter config and runtime folders), opens the notebook in /usr/bin/chromium driven by Playwright
(no browser is downloaded), runs it (Run > Run All Cells in JupyterLab and Notebook 7; Voila runs it on
load) and then checks what a person sees:

* every widget drew: the explorer's four charts, the reviewer's canvas, the attribution chart and the
  report's three charts (plotly's mime renderer in each front end), and no "Error displaying widget";
* the four areas of the dashboard (anomalies, graph review, attribution, report) are non-empty and do not
  overlap (bounding boxes from the DOM), and a screenshot of each is not blank (pixels: more than a
  background colour and a few others);
* in Voila, a button works without code: another sample is picked and Load analyses it.

Screenshots (full page and each area) are written to a temporary folder whose path is printed, on
failure and on success. The servers are stopped (their process group) whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests._browser import CHROMIUM, require_browser, stop_process

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = "06_incident_dashboard.ipynb"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TOKEN = "rcakit-frontends-test"
AREAS = ["explorer", "reviewer", "attribution", "report"]
VIEWPORT_HEIGHT = 9000

# Bounds of every wait (seconds): generous for a loaded CI machine, but finite.
SERVER_START = 120
PAGE_LOAD = 120
DASHBOARD = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_command(kind: str, folder: Path, port: int, home: Path) -> tuple[list[str], str]:
    """The command that serves ``folder`` and the URL of the notebook in that front end."""
    common = ["--no-browser", f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    root = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        root = ["--allow-root"]
    if kind == "lab":
        cmd = [sys.executable, "-m", "jupyterlab", *common, "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={folder}",
               f"--LabApp.workspaces_dir={home / 'workspaces'}", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--ServerApp.terminals_enabled=False",
               *root]
        return cmd, f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK}?token={TOKEN}"
    if kind == "notebook":
        cmd = [sys.executable, "-m", "notebook", *common, "--ServerApp.ip=127.0.0.1",
               f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={folder}",
               "--ServerApp.terminals_enabled=False", *root]
        return cmd, f"http://127.0.0.1:{port}/notebooks/{NOTEBOOK}?token={TOKEN}"
    cmd = [sys.executable, "-m", "voila", str(folder / NOTEBOOK), "--no-browser", f"--port={port}",
           "--Voila.ip=127.0.0.1", f"--token={TOKEN}", "--show_tracebacks=True"]
    return cmd, f"http://127.0.0.1:{port}/?token={TOKEN}"


def _answers(kind: str, port: int) -> bool:
    """The server is up: Jupyter's /api/status answers; Voila (one notebook, no REST API) serves its static files."""
    path = "/voila/static/voila.js" if kind == "voila" else f"/api/status?token={TOKEN}"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3) as r:
            return r.status == 200
    except OSError:
        return False


def _wait_for_server(kind: str, port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}:\n{log.read_text()[-3000:]}")
        if _answers(kind, port):
            return
        time.sleep(0.5)
    raise TimeoutError(f"the server did not answer within {SERVER_START} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    stop_process(proc, group=True)


@pytest.fixture
def server(request, tmp_path):
    """The front end ``request.param`` serving a copy of notebook 06; stopped after the test."""
    require_browser()
    kind = request.param
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, folder / NOTEBOOK)
    port = _free_port()
    cmd, url = _server_command(kind, folder, port, tmp_path)
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "IPYTHONDIR": str(tmp_path / "ipython"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "RCAKIT_PROGRESS": "0", "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    log = tmp_path / f"{kind}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_for_server(kind, port, proc, log)
        yield {"kind": kind, "url": url, "folder": folder, "log": log}
    finally:
        _stop(proc)


# -- the page --------------------------------------------------------------------------------------------
def _answer_dialogs(page) -> None:
    """Accept a dialog (e.g. "Select Kernel" on a slow start) with its default button, as a person would."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        with contextlib.suppress(Exception):
            dialog.first.locator(".jp-Dialog-button.jp-mod-accept").first.click(timeout=5_000)


def _dismiss_news(page) -> None:
    """JupyterLab and Notebook 7 ask once whether to fetch Jupyter news; answer No so that the toast hides nothing."""
    toast = page.locator(".Toastify button", has_text="No")
    if toast.count():
        with contextlib.suppress(Exception):
            toast.first.click(timeout=5_000)
            page.wait_for_timeout(500)


def _kernel_idle(page) -> bool:
    text = page.evaluate("document.body.innerText")
    return "| Idle" in text or page.locator("[data-status='idle']").count() > 0 or \
        page.locator(".jp-NotebookKernelStatus-idle, .jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0


PROMPTS_JS = """
() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')].map((e) => e.textContent.trim())
"""


def _run_all(page) -> None:
    """Run > Run All Cells from the menu bar once the kernel is idle (JupyterLab and Notebook 7); again if no cell
    started within 30 s (a click while the kernel was still connecting is dropped)."""
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=PAGE_LOAD * 1000)
    deadline = time.monotonic() + PAGE_LOAD
    while time.monotonic() < deadline and not _kernel_idle(page):
        _answer_dialogs(page)
        page.wait_for_timeout(500)
    for _attempt in range(3):
        _dismiss_news(page)
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()
        started = time.monotonic()
        while time.monotonic() - started < 30:
            _answer_dialogs(page)
            if any(p not in ("[ ]:", "") for p in page.evaluate(PROMPTS_JS)):
                return
            page.wait_for_timeout(500)
    raise TimeoutError("Run All Cells started no cell (three tries)")


READY_JS = """
() => {
  const dash = document.querySelector('.rcakit-dashboard');
  if (!dash) return 'no dashboard';
  const status = (dash.querySelector('.rcakit-dash-status') || {}).innerText || '';
  if (/failed|cancelled/.test(status)) return 'status: ' + status;
  if (!/analysed in/.test(status)) return 'waiting: ' + status;
  const plots = [...dash.querySelectorAll('.js-plotly-plot')].filter((p) => p.querySelector('.main-svg'));
  const canvas = dash.querySelector('.rcakit-dash-reviewer .rcakit-reviewer canvas');
  const reportPlots = dash.querySelectorAll('.rcakit-dash-report .js-plotly-plot .main-svg').length;
  if (!canvas || plots.length < 9 || reportPlots < 3) return `drawing: ${plots.length} plots, canvas ${!!canvas}, report ${reportPlots}`;
  return 'ready';
}
"""

# Each area of the dashboard: its box in page coordinates and what it drew.
AREAS_JS = """
(names) => names.map((name) => {
  const el = document.querySelector('.rcakit-dash-' + name);
  const r = el ? el.getBoundingClientRect() : {left: 0, top: 0, width: 0, height: 0};
  const plots = el ? [...el.querySelectorAll('.js-plotly-plot')].map((p) => ({
      title: (p._fullLayout && p._fullLayout.title && p._fullLayout.title.text) || '',
      traces: (p.data || []).length, drawn: !!p.querySelector('.main-svg'),
      height: Math.round(p.getBoundingClientRect().height)})) : [];
  return {name, x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height, plots,
          canvas: el ? el.querySelectorAll('canvas').length : 0};
})
"""

WIDGET_ERRORS = ("Error displaying widget", "Failed to load model class", "Could not create a view",
                 "Failed to initialize model")


def assert_dashboard_drew(result: dict, shots: Path) -> None:
    """The dashboard's four areas drew: each non-empty with charts that have traces (explorer 4, report 3),
    the reviewer's canvas, no two areas overlapping, and no area's screenshot blank."""
    areas = {a["name"]: a for a in result["areas"]}
    for name, area in areas.items():
        assert area["width"] >= 300 and area["height"] >= 150, f"the {name} area is empty: {area} (see {shots})"
        blank = [p for p in area["plots"] if not (p["traces"] and p["drawn"] and p["height"] >= 100)]
        assert not blank, f"blank charts in the {name} area: {blank} (see {shots})"
    assert len(areas["explorer"]["plots"]) == 4 and len(areas["report"]["plots"]) == 3
    assert areas["reviewer"]["canvas"] >= 1 and len(areas["attribution"]["plots"]) >= 1
    for i, a in enumerate(AREAS):
        for b in AREAS[i + 1:]:
            assert _overlap(areas[a], areas[b]) < 1, f"the {a} and {b} areas overlap: {areas[a]} {areas[b]} ({shots})"
    for path in result["shots"]:
        if path.stem in AREAS:
            ok, why = _not_blank(path)
            assert ok, f"the {path.stem} screenshot looks blank ({why}): {path}"


def _overlap(a: dict, b: dict) -> float:
    w = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    h = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(w, 0) * max(h, 0)


def _not_blank(path: Path) -> tuple[bool, str]:
    """A screenshot shows something: under 97 % of one colour and more than 16 colours."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    image.thumbnail((600, 600))
    colours = image.getcolors(maxcolors=1 << 20) or []
    total = sum(n for n, _ in colours) or 1
    top = max((n for n, _ in colours), default=0) / total
    return top < 0.97 and len(colours) > 16, f"{len(colours)} colours, {top:.1%} background"


def look_at_dashboard(server: dict, shots: Path) -> dict:
    from playwright.sync_api import sync_playwright

    result: dict = {"console": [], "shots": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: result["console"].append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: result["console"].append(f"pageerror: {e}"))
        try:
            started = time.monotonic()
            page.goto(server["url"], timeout=PAGE_LOAD * 1000)
            if server["kind"] != "voila":
                _run_all(page)
            state = ""
            deadline = time.monotonic() + DASHBOARD
            while time.monotonic() < deadline:
                _answer_dialogs(page)
                state = page.evaluate(READY_JS)
                if state == "ready" or state.startswith("status:"):
                    break
                page.wait_for_timeout(1000)
            result["state"], result["seconds"] = state, time.monotonic() - started
            _dismiss_news(page)
            # tall enough for the whole dashboard: JupyterLab scrolls inside its own panel, so an element
            # screenshot shows only what lies inside the panel's viewport
            page.set_viewport_size({"width": 1400, "height": VIEWPORT_HEIGHT})
            page.wait_for_timeout(2500)  # let the last charts settle (and redraw at the new size)
            result["areas"] = page.evaluate(AREAS_JS, AREAS)
            page.screenshot(path=str(shots / "page.png"), full_page=True)
            result["shots"].append(shots / "page.png")
            for name in AREAS:
                area = page.locator(f".rcakit-dash-{name}").first
                if area.count():
                    path = shots / f"{name}.png"
                    area.scroll_into_view_if_needed(timeout=10_000)
                    area.screenshot(path=str(path), timeout=30_000)
                    result["shots"].append(path)
            result["page_text"] = page.evaluate("document.body.innerText")
            if server["kind"] == "voila" and state == "ready":
                result["load"] = _load_another_sample(page, shots)
        except Exception:
            page.screenshot(path=str(shots / "failure.png"), full_page=True)
            result["shots"].append(shots / "failure.png")
            raise
        finally:
            (shots / "console.txt").write_text("\n".join(result["console"]))
            browser.close()
    return result


REVIEWERS_JS = """() => [...document.querySelectorAll('.rcakit-reviewer')].map(r => ({
  edges: Number(r.dataset.edgeCount || 0), width: r.querySelector('canvas') ? r.querySelector('canvas').width : 0}))"""


def _load_another_sample(page, shots: Path) -> dict:
    """Voila without code: pick another sample in the menu, press Load, wait for its analysis; the reviewer
    drawn before and after (one reviewer, reused: its edge count and canvas width)."""
    before = page.evaluate(REVIEWERS_JS)
    select = page.locator(".rcakit-dashboard select").first
    select.select_option("sim-S-gpu-throttle")
    page.locator(".rcakit-dashboard button", has_text="Load").first.click()
    page.wait_for_function("(document.querySelector('.rcakit-dash-status') || {}).innerText.includes("
                           "'sim-S-gpu-throttle analysed in')", timeout=DASHBOARD * 1000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(shots / "after-load.png"), full_page=True)
    return {"status": page.evaluate("document.querySelector('.rcakit-dash-status').innerText"),
            "before": before, "after": page.evaluate(REVIEWERS_JS)}


@pytest.mark.parametrize("server", ["lab", "notebook", "voila"], indirect=True)
def test_the_dashboard_draws_every_widget_without_overlap(server) -> None:
    shots = Path(tempfile.mkdtemp(prefix=f"rcakit-frontend-{server['kind']}-"))
    try:
        result = look_at_dashboard(server, shots)
    except Exception:
        print(f"\nscreenshots and console of the failure: {shots}\nserver log ends with:\n"
              + server["log"].read_text(errors="replace")[-2000:])
        raise
    print(f"\n{server['kind']}: dashboard {result['state']} after {result['seconds']:.1f} s; screenshots in {shots}")
    for area in result["areas"]:
        print(f"  {area['name']}: {area['width']:.0f}x{area['height']:.0f} at y={area['y']:.0f}, "
              f"{len(area['plots'])} charts {[p['title'][:40] for p in area['plots']]}, {area['canvas']} canvas")
    problems = [m for m in result["console"] if any(e in m for e in WIDGET_ERRORS)]
    assert result["state"] == "ready", f"the dashboard did not finish in {server['kind']}: {result['state']} (see {shots})"
    assert not problems, f"widget errors in the console: {problems[:3]} (see {shots})"
    assert not any(e in result["page_text"] for e in WIDGET_ERRORS), f"a widget failed to display (see {shots})"
    assert_dashboard_drew(result, shots)
    if server["kind"] == "voila":
        load = result.get("load") or {}
        print(f"  after Load: reviewer {load.get('after')} (before: {load.get('before')})")
        assert "sim-S-gpu-throttle analysed in" in load.get("status", ""), load
        # one reviewer, redrawn for the new incident in a visible canvas (not a second widget, not the old graph)
        assert len(load["before"]) == len(load["after"]) == 1, load
        assert load["after"][0]["edges"] > 0 and load["after"][0]["edges"] != load["before"][0]["edges"], load
        assert load["after"][0]["width"] > 0, load
