"""The README's demo in a real browser: ``rcakit demo --no-browser``, Debian's headless chromium, Run All Cells.

This is issue 8's "done when": from a checkout, the demo command serves notebook 01 in JupyterLab and
"run all" in a real browser finishes with no error cell. The test

1. copies ``notebooks/`` to a temporary folder (the tutorial writes its review session beside the
   notebook; the checkout stays clean) and starts ``rcakit demo --no-browser --port <free> --token <t>
   --notebooks <copy>`` in its own process group, reading the URL from its ``ready at`` line;
2. opens that URL in /usr/bin/chromium (headless, driven by Playwright; no browser is downloaded), waits
   for the kernel, and clicks Run > Run All Cells as a person would;
3. waits (bounded) until the kernel is idle and every code cell shows an execution count, or a cell
   failed;
4. asserts no cell shows an error (error output, a Traceback on stderr, "Error displaying widget"),
   that the GraphReviewer drew its canvas and plotly drew the attribution chart, and that the notebook
   saved through the page (File > Save) has an execution count on every code cell and no error output;
5. always: shuts the kernels down, stops the demo's process group, and on failure saves screenshots and
   the page's console to a temporary folder whose path is printed.

Screenshots of the reviewer and the attribution panel are kept in that folder on success too (path printed).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests._browser import CHROMIUM, require_browser

pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
QUICKSTART = "01_quickstart.ipynb"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
READY = re.compile(r"rcakit demo: ready at (http://\S+)")

# Bounds of every wait (seconds). The machine running CI may be loaded; these are generous but finite.
SERVER_START = 180
PAGE_LOAD = 120
KERNEL_READY = 180
RUN_ALL = 480
SETTLE = 3.0

# One JSON snapshot of the notebook as the page shows it.
STATE_JS = r"""
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)') || document.querySelector('.jp-NotebookPanel');
  if (!panel) return null;
  const cells = [...panel.querySelectorAll('.jp-Notebook .jp-Cell.jp-CodeCell')].map((cell, i) => {
    const prompt = (cell.querySelector('.jp-InputArea-prompt') || {}).textContent || '';
    const errors = [];
    for (const out of cell.querySelectorAll('.jp-OutputArea-output')) {
      const mime = out.getAttribute('data-mime-type') || '';
      const text = out.textContent || '';
      if (mime === 'application/vnd.jupyter.stderr' && /Traceback|Error:|Exception/.test(text)) errors.push(text.slice(0, 1500));
      else if (/Error displaying widget|Failed to load model class|Could not create a view/.test(text)) errors.push(text.slice(0, 500));
    }
    const source = ((cell.querySelector('.jp-InputArea-editor') || {}).textContent || '').slice(0, 400);
    return {index: i, prompt: prompt.trim(), errors, source};
  });
  const indicator = panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const status = document.querySelector('.jp-KernelStatus, [data-status]');
  return {
    cells,
    kernel: indicator ? indicator.getAttribute('data-status') : null,
    statusText: (document.querySelector('#jp-main-statusbar') || {}).textContent || '',
  };
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo_command() -> list[str]:
    script = Path(sys.executable).with_name("rcakit")  # the README's `.venv/bin/rcakit demo`
    return [str(script)] if script.is_file() else [sys.executable, "-m", "rcakit.cli"]


def _wait_for_url(log: Path, proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.is_file() else ""
        found = READY.search(text)
        if found:
            return found.group(1)
        if proc.poll() is not None:
            raise RuntimeError(f"`rcakit demo` exited with code {proc.returncode} before it was ready:\n{text[-3000:]}")
        time.sleep(0.3)
    raise TimeoutError(f"`rcakit demo` printed no 'ready at' line within {timeout} s:\n{log.read_text()[-3000:]}")


def _api(base: str, token: str, path: str, method: str = "GET"):
    request = urllib.request.Request(f"{base}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def _kernel_pids(runtime: Path) -> list[int]:
    """Kernels launched by this server: their command line names a connection file in our runtime dir."""
    pids = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            cmdline = (proc_dir / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(runtime) in cmdline and "kernel" in cmdline:
            pids.append(int(proc_dir.name))
    return pids


def _stop_demo(proc: subprocess.Popen, base: str | None, token: str, runtime: Path) -> None:
    if base is not None and proc.poll() is None:
        try:  # kernels run in their own sessions: ask the server to shut them down
            for kernel in _api(base, token, "/api/kernels") or []:
                _api(base, token, f"/api/kernels/{kernel['id']}", method="DELETE")
        except OSError:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    for pid in _kernel_pids(runtime):  # anything the server failed to stop
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def demo(tmp_path):
    """``rcakit demo --no-browser`` on a copy of notebooks/; yields its URL and folders; always stopped."""
    require_browser()
    folder = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, folder, ignore=shutil.ignore_patterns(
        "__pycache__", ".ipynb_checkpoints", "*.rcakit-review.json", "*.html"))
    yield from _run_demo(folder, tmp_path)


def _run_demo(folder: Path, tmp_path: Path):
    token = "rcakit-browser-test"
    runtime = tmp_path / "runtime"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime), "IPYTHONDIR": str(tmp_path / "ipython"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"), "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "demo.log"
    cmd = [*_demo_command(), "demo", "--no-browser", "--port", str(_free_port()), "--token", token,
           "--notebooks", str(folder)]
    started = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = None
    try:
        url = _wait_for_url(log_path, proc, SERVER_START)
        base = url.split("/lab/")[0]
        print(f"\n`rcakit demo` ready in {time.monotonic() - started:.1f} s: {url}")
        yield {"url": url, "base": base, "token": token, "folder": folder, "log": log_path, "proc": proc}
    finally:
        _stop_demo(proc, base, token, runtime)
        assert proc.poll() is not None


def _wait_kernel_idle(page, timeout: float, dialogs: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _answer_dialogs(page, dialogs)
        idle = page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']").count()
        status = page.locator("#jp-main-statusbar").text_content() or ""
        if idle and "| Idle" in status:
            return
        page.wait_for_timeout(500)
    raise TimeoutError(f"the kernel was not idle within {timeout} s")


def _menu(page, menu: str, item: str) -> None:
    page.click(f"#jp-MainMenu >> text={menu}")
    page.click(f"li.lm-Menu-item >> text={item}")


def _answer_dialogs(page, seen: list[str]) -> None:
    """Accept a JupyterLab dialog (e.g. "Select Kernel" under load) with its default button, as a person would."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        seen.append(" ".join((dialog.first.text_content() or "").split())[:200])
        dialog.first.locator(".jp-Dialog-button.jp-mod-accept").first.click(timeout=10_000)
        page.wait_for_timeout(500)


def _wait_run_all(page, timeout: float, dialogs: list[str]) -> dict:
    """Until the kernel is idle and no cell is queued, with every code cell numbered or one failed."""
    deadline = time.monotonic() + timeout
    stable_since = None
    state: dict = {}
    while time.monotonic() < deadline:
        _answer_dialogs(page, dialogs)
        state = page.evaluate(STATE_JS) or {}
        cells = state.get("cells", [])
        busy = state.get("kernel") not in ("idle", None) or any(c["prompt"] == "[*]:" for c in cells)
        numbered = all(re.fullmatch(r"\[\d+\]:", c["prompt"]) for c in cells)
        failed = any(c["errors"] for c in cells)
        if cells and not busy and (numbered or failed):
            stable_since = stable_since or time.monotonic()
            if time.monotonic() - stable_since >= SETTLE:
                return state
        else:
            stable_since = None
        page.wait_for_timeout(500)
    state["timed_out"] = True
    return state


def _describe(state: dict) -> str:
    lines = []
    for c in state.get("cells", []):
        mark = "ERROR" if c["errors"] else "ok" if re.fullmatch(r"\[\d+\]:", c["prompt"]) else "not run"
        lines.append(f"  code cell {c['index'] + 1} {c['prompt'] or '[ ]:'} {mark}: {c['source'][:70]!r}")
        lines.extend("      " + line for e in c["errors"] for line in e.splitlines()[-6:])
    return "\n".join(lines)


def run_all_in_browser(lab: dict, shots: Path) -> dict:
    """Open the demo URL in chromium, Run All Cells, and return what the page showed (see module doc)."""
    from playwright.sync_api import sync_playwright

    result: dict = {"console": [], "shots": shots}
    timings = result["timings"] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: result["console"].append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: result["console"].append(f"pageerror: {e}"))
        try:
            t0 = time.monotonic()
            page.goto(lab["url"], timeout=PAGE_LOAD * 1000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=PAGE_LOAD * 1000)
            timings["page"] = time.monotonic() - t0
            # the kernel must be connected and idle before Run All, or the requests are dropped
            dialogs = result["dialogs"] = []
            _wait_kernel_idle(page, KERNEL_READY, dialogs)
            timings["kernel"] = time.monotonic() - t0
            _menu(page, "Run", "Run All Cells")
            t1 = time.monotonic()
            state = _wait_run_all(page, RUN_ALL, dialogs)
            timings["run_all"] = time.monotonic() - t1
            result["state"] = state
            # look at the page as a person would: every chart scrolled into view, then the widgets' screenshots
            _dismiss_news(page)
            result["widgets"] = {name: page.locator(sel).count() for name, sel in {
                "reviewer": ".rcakit-reviewer", "plotly": ".js-plotly-plot"}.items()}
            result["reviewer_canvas"] = page.locator(".rcakit-reviewer .rcakit-graph canvas").count()
            result["plots"] = _plots(page)
            result["overflow"] = page.evaluate(OVERFLOW_JS)
            _shoot(page, page.locator(".rcakit-reviewer").first, shots / "reviewer.png", result)
            attribution = _cell_output(page, "AttributionPanel(")
            if attribution is not None:
                _shoot(page, attribution, shots / "attribution.png", result)
            explorer = _cell_output(page, "TelemetryExplorer(")
            if explorer is not None:
                _shoot(page, explorer, shots / "explorer.png", result)
                charts = explorer.locator(".js-plotly-plot")  # each explorer chart whole, as a reader scrolls to it
                for i in range(charts.count()):
                    _shoot(page, charts.nth(i), shots / f"explorer-chart-{i + 1}.png", result)
            page.screenshot(path=str(shots / "end.png"))
            # the notebook as saved through the page (File > Save Notebook)
            page.click(".jp-NotebookPanel .jp-Notebook")
            _menu(page, "File", "Save Notebook")
            result["saved"] = _wait_saved(lab["folder"] / QUICKSTART, timeout=30)
        except Exception:
            page.screenshot(path=str(shots / "failure.png"))
            result["failure_shot"] = shots / "failure.png"
            raise
        finally:
            (shots / "console.txt").write_text("\n".join(result["console"]))
            browser.close()
    return result


# Each plotly chart: which code cell shows it, its title, how many traces and points it drew.
PLOTS_JS = """
(el) => {
  const cells = [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell.jp-CodeCell')];
  const cell = el.closest('.jp-CodeCell');
  const t = el._fullLayout && el._fullLayout.title;
  const data = el.data || [];
  const points = data.reduce((n, d) => n + Math.max((d.x || []).length, (d.y || []).length, (d.z || []).length), 0);
  const box = el.getBoundingClientRect();
  const svg = el.querySelector('.main-svg');
  const area = cell ? cell.querySelector('.jp-OutputArea-output') : null;
  const xaxis = el._fullLayout && el._fullLayout.xaxis;
  return {cell: cells.indexOf(cell) + 1, title: (t && t.text) || '', traces: data.length, points,
          width: Math.round(box.width), height: Math.round(box.height), drawn: !!svg, svgWidth: svg ? Math.round(svg.getBoundingClientRect().width) : 0,
          areaWidth: area ? area.clientWidth : 0, xtype: (xaxis && xaxis.type) || '',
          xticks: [...el.querySelectorAll('.xtick text')].map((e) => e.textContent).slice(0, 4)};
}
"""

# Widget outputs wider than their output area (a horizontal scrollbar a reader has to find).
OVERFLOW_JS = """
() => [...document.querySelectorAll('.jp-NotebookPanel .jp-Notebook .jp-Cell.jp-CodeCell')].flatMap((cell, i) =>
  [...cell.querySelectorAll('.jp-OutputArea-output')].filter((o) => o.scrollWidth > o.clientWidth + 2)
    .map((o) => ({cell: i + 1, width: o.clientWidth, content: o.scrollWidth})))
"""


def _plots(page) -> list[dict]:
    """Every plotly chart on the page, each scrolled into view first as a reader would."""
    found = []
    plots = page.locator(".js-plotly-plot")
    for i in range(plots.count()):
        plot = plots.nth(i)
        plot.scroll_into_view_if_needed(timeout=10_000)
        page.wait_for_timeout(300)
        found.append(plot.evaluate(PLOTS_JS))
    return found


def _cell_output(page, source: str):
    """The output area of the first code cell whose source contains ``source``, or None."""
    cells = page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell.jp-CodeCell")
    for i in range(cells.count()):
        cell = cells.nth(i)
        if source in (cell.locator(".jp-InputArea-editor").first.text_content() or ""):
            output = cell.locator(".jp-OutputArea").first
            return output if output.count() else None
    return None


def _dismiss_news(page) -> None:
    """JupyterLab asks once whether to fetch Jupyter news; answer No so that the toast hides nothing."""
    toast = page.locator(".Toastify button", has_text=re.compile(r"^\s*No\s*$"))
    if toast.count():
        with contextlib.suppress(Exception):  # a toast that vanished meanwhile is fine
            toast.first.click(timeout=5_000)


def _shoot(page, locator, path: Path, result: dict) -> None:
    if locator.count():
        locator.scroll_into_view_if_needed(timeout=10_000)
        page.wait_for_timeout(1000)
        locator.screenshot(path=str(path), timeout=30_000)
        result.setdefault("screenshots", []).append(path)


def _wait_saved(path: Path, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            nb = json.loads(path.read_text())
        except json.JSONDecodeError:  # the server is writing the file right now (seen: an empty read)
            time.sleep(0.5)
            continue
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        if any(c.get("execution_count") for c in code):
            return nb
        time.sleep(0.5)
    raise AssertionError(f"the notebook was not saved with outputs within {timeout} s")


def test_run_all_of_the_quickstart_in_chromium_finishes_without_an_error_cell(demo):
    shots = Path(tempfile.mkdtemp(prefix="rcakit-quickstart-browser-"))
    started = time.monotonic()
    try:
        result = run_all_in_browser(demo, shots)
    except Exception:
        print(f"\nscreenshot: {shots / 'failure.png'}\nbrowser console: {shots / 'console.txt'}")
        print("demo log ends with:\n" + demo["log"].read_text(errors="replace")[-2000:])
        raise
    state = result["state"]
    errors = [m for m in result["console"] if m.startswith(("error:", "pageerror:"))]
    print(f"\nquickstart in chromium: page {result['timings']['page']:.1f} s, kernel ready "
          f"{result['timings']['kernel']:.1f} s, run all {result['timings']['run_all']:.1f} s, "
          f"test total {time.monotonic() - started:.1f} s")
    print(f"widgets: {result['widgets']}, reviewer canvases {result['reviewer_canvas']}")
    for plot in result["plots"]:
        print(f"  plotly chart in code cell {plot['cell']}: title {plot['title']!r}, {plot['traces']} traces, "
              f"{plot['points']} points, {plot['width']} px wide")
    for over in result["overflow"]:
        print(f"  layout: code cell {over['cell']}'s output is {over['content']} px wide in a {over['width']} px area")
    # Charts left blank elsewhere are reported, not failed on: under heavy CPU load anywidget (plotly 7's
    # FigureWidget) gives a model 2 s to initialize and some views then never receive their traces.
    for plot in result["plots"]:
        if not plot["traces"]:
            print(f"  BLANK plotly chart in code cell {plot['cell']} (no traces drawn); see {shots}")
    if result.get("dialogs"):
        print(f"  dialogs answered: {result['dialogs']}")
    print(f"screenshots and console: {shots} ({len(errors)} console errors)")
    for message in errors[:20]:
        print("  console", message[:300])
    summary = _describe(state)
    try:
        assert not state.get("timed_out"), f"Run All did not finish within {RUN_ALL} s:\n{summary}"
        failed = [c for c in state["cells"] if c["errors"]]
        assert not failed, f"cells failed in the browser:\n{summary}"
        assert all(re.fullmatch(r"\[\d+\]:", c["prompt"]) for c in state["cells"]), f"cells not run:\n{summary}"
        assert result["reviewer_canvas"] >= 1, "the GraphReviewer drew no canvas"
        attribution_cell = next((c["index"] + 1 for c in state["cells"] if "AttributionPanel(" in c["source"]), None)
        assert attribution_cell is not None, "the quickstart has no AttributionPanel cell"
        charts = [p for p in result["plots"] if p["cell"] == attribution_cell]
        assert any(p["traces"] and p["points"] for p in charts), f"the attribution chart drew nothing: {charts}"
        _assert_explorer_drew(state, result, shots)
        code = [c for c in result["saved"]["cells"] if c["cell_type"] == "code"]
        assert all(c.get("execution_count") for c in code), "the saved notebook has cells without an execution count"
        saved_errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not saved_errors, f"the saved notebook has error outputs: {saved_errors[:1]}"
    except AssertionError:
        page_shot = shots / "end.png"
        print(f"screenshot: {page_shot}")
        raise


def _assert_explorer_drew(state: dict, result: dict, shots: Path) -> None:
    """The TelemetryExplorer's four charts all drew (one FigureWidget, three static), on a date axis, fitting."""
    cell = next((c["index"] + 1 for c in state["cells"] if "TelemetryExplorer(" in c["source"]), None)
    assert cell is not None, "the quickstart has no TelemetryExplorer cell"
    charts = {p["title"].split(" (")[0].split(" of ")[0]: p for p in result["plots"] if p["cell"] == cell}
    expected = ["series", "anomaly score by entity", "log templates", "service map"]
    assert sorted(charts) == sorted(expected), f"explorer charts on the page: {list(charts)} (see {shots})"
    # drawn and visible: a plot sized to 100% of an auto-height Output had an SVG but was 0 px tall
    blank = [name for name, p in charts.items() if not (p["traces"] and p["points"] and p["drawn"] and p["height"] >= 100)]
    assert not blank, f"explorer charts drew nothing: {blank}: {charts} (see {shots})"
    for name in ("series", "anomaly score by entity"):
        assert charts[name]["xtype"] == "date", f"the {name} chart's x axis is {charts[name]['xtype']!r}, not dates"
        assert not any("e+" in t or "×10" in t for t in charts[name]["xticks"]), charts[name]["xticks"]
    wide = {name: (p["svgWidth"], p["areaWidth"]) for name, p in charts.items() if p["svgWidth"] > p["areaWidth"] + 2}
    assert not wide, f"explorer charts wider than the output area (chart, area px): {wide}"
    over = [o for o in result["overflow"] if o["cell"] == cell]
    assert not over, f"the explorer's output overflows its area: {over}"
    bad = [m for m in result["console"] if "Failed to initialize model" in m or "NaN" in m]
    assert not bad, f"the browser console reports widget or NaN trouble: {bad[:3]}"
