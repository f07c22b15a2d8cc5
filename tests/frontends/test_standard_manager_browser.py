"""rcakit's widgets under a standard, non-JupyterLab widget manager: the family VS Code's notebook renderer uses.

VS Code's Jupyter extension draws ipywidgets with a manager that subclasses ``@jupyter-widgets/html-manager``'s
``HTMLManager`` (the pattern of ipywidgets' "web3" example), talks Jupyter's messaging protocol to a kernel with
``@jupyterlab/services``, and loads third-party widget modules (anywidget) by module name. VS Code itself cannot be
installed here, so this test builds the same kind of manager: ``tests/frontends/standard_manager/`` is a page
bundled with esbuild from pinned npm packages (no CDN; nothing of JupyterLab's application, shell or extension
system), in which

* ``@jupyterlab/services`` starts a python3 kernel on a Jupyter server the test started (free port, token);
* an ``HTMLManager`` subclass opens the kernel's widget comms, resolves ``anywidget`` through its loader from the
  npm package (the AMD module anywidget's Python package also installs as a classic nbextension), and draws
  plotly's mime type with plotly.js from npm (VS Code uses its built-in renderer for it);
* the kernel builds the ``IncidentDashboard`` on ``sample_incident("sim-M-network")``: the ``TelemetryExplorer``
  (``interactive=False``), the ``GraphReviewer`` anywidget on the sample's draft, the ``AttributionPanel`` and the
  ``ReportPanel``, built and updated from the dashboard's worker thread, over the comms.

It then checks what a person sees and does, in Debian's headless chromium (driven by Playwright):
every widget drew (charts with traces, the reviewer's canvas; non-empty areas that do not overlap, screenshots
not blank), no widget or rcakit error in the console, no request left the machine, and a click on the reviewer's
Accept button reaches Python: the dashboard's ReviewSession records the decision (read back by running code in
the same kernel, and from its session file), and the new state comes back to the page. Last, the explorer as the
quickstart builds it (``interactive=True``: the series chart is plotly's ``FigureWidget``, itself an anywidget)
draws its four charts, and a box selection dragged on the series moves the incident window in Python.

The page is served by the Jupyter server itself (``--ServerApp.extra_static_paths``), so it is same-origin with
the REST API and the kernel websocket, as a front end served by Jupyter is; a page answered by Playwright instead
has no address, and chromium's local-network-access checks then refuse its websocket to 127.0.0.1.

What it does not prove: anything about VS Code's webview, its message relay or its own plotly renderer.
The bundle is built on first use (``npm ci`` from the registry, then esbuild) into gitignored
``node_modules/`` and ``dist/`` beside the page; missing chromium fails, missing node/npm fails under CI
(``CI=true`` or ``RCAKIT_REQUIRE_SHARED=1``) and skips with the reason otherwise.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests._browser import require_browser
from tests.frontends.test_frontends_browser import (
    AREAS,
    AREAS_JS,
    CHROMIUM,
    CHROMIUM_ARGS,
    READY_JS,
    WIDGET_ERRORS,
    _free_port,
    _stop,
    assert_dashboard_drew,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).resolve().parent / "standard_manager"
BUNDLE = HARNESS / "dist" / "harness.js"
SOURCES = ("harness.js", "build.mjs", "package.json", "package-lock.json")
TOKEN = "rcakit-standard-manager-test"

SERVER_START = 120
NPM = 600
DASHBOARD = 300
ROUND_TRIP = 60

SETUP = """
import rcakit
rcakit.set_progress(False)
from rcakit.ui import IncidentDashboard
dash = IncidentDashboard("sim-M-network")
dash
"""


def _strict() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("RCAKIT_REQUIRE_SHARED") == "1"


def _missing(what: str) -> None:
    message = (f"{what} is missing: this test builds its page with node and npm (apt-get install nodejs npm), "
               "then npm ci fetches the pinned packages from the npm registry once")
    if _strict():
        pytest.fail(message)
    pytest.skip(message)


def _stale(target: Path, sources: list[Path]) -> bool:
    return not target.is_file() or any(s.stat().st_mtime > target.stat().st_mtime for s in sources)


@pytest.fixture(scope="session")
def bundle() -> Path:
    """``dist/harness.js``: built (npm ci, then esbuild) when missing or older than its sources; reused after."""
    sources = [HARNESS / name for name in SOURCES]
    if not _stale(BUNDLE, sources):
        return BUNDLE
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("node" if node is None else "npm")
    nice = ["nice", "-n", "5"] if shutil.which("nice") else []
    with (HARNESS / ".build.lock").open("w") as lock:  # two test runs at once build once
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            installed = HARNESS / "node_modules" / ".package-lock.json"
            steps = []
            if _stale(installed, [HARNESS / "package-lock.json", HARNESS / "package.json"]):
                steps.append([*nice, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"])
            if _stale(BUNDLE, sources):
                steps.append([*nice, node, "build.mjs"])
            for cmd in steps:
                done = subprocess.run(cmd, cwd=HARNESS, capture_output=True, text=True, timeout=NPM)
                if done.returncode != 0:
                    pytest.fail(f"building the page failed ({' '.join(cmd)}, exit {done.returncode}):\n"
                                f"{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert BUNDLE.is_file(), f"the build wrote no {BUNDLE}"
    return BUNDLE


@pytest.fixture
def server(tmp_path):
    """A Jupyter server (no front end) on a free port with a token, its root a temporary folder; stopped after."""
    require_browser()
    folder = tmp_path / "work"
    folder.mkdir()
    port = _free_port()
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", f"--ServerApp.port={port}",
           "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}",
           f"--ServerApp.root_dir={folder}", "--ServerApp.terminals_enabled=False",
           # the page is served by this server, on its origin, like a front end (static files: no token needed)
           f"--ServerApp.extra_static_paths={json.dumps([str(HARNESS)])}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "IPYTHONDIR": str(tmp_path / "ipython"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "RCAKIT_PROGRESS": "0", "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + SERVER_START
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"jupyter_server exited with code {proc.returncode}:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(OSError), \
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={TOKEN}", timeout=3) as r:
                if r.status == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"jupyter_server did not answer within {SERVER_START} s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"origin": f"http://127.0.0.1:{port}", "folder": folder, "log": log}
    finally:
        _stop(proc)


# -- the page --------------------------------------------------------------------------------------------
def _refuse_other_hosts(page, origin: str, outside: list[str]) -> None:
    """Every request to another host than the Jupyter server is refused and recorded (nothing from a CDN)."""
    def handle(route) -> None:
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", handle)


def _call(page, function: str, arg, seconds: float, what: str):
    """``await function(arg)`` in the page, given at most ``seconds`` (a kernel that never answers fails, not hangs)."""
    bounded = (f"async (arg) => Promise.race([({function})(arg), new Promise((_, reject) => setTimeout("
               f"() => reject(new Error({json.dumps(what + f' took more than {seconds:.0f} s')})), {seconds * 1000}))])")
    return page.evaluate(bounded, arg)


def _execute(page, code: str, area: str, timeout: float = 120) -> str:
    """Run ``code`` in the page's kernel (widget views it displays go to ``<div id=area>``); its printed text."""
    return _call(page, "([code, area]) => window.harness.execute(code, area)", [code, area], timeout,
                 f"running {code.strip().splitlines()[-1]!r}")


def _wait(page, what: str, check, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is True or (isinstance(last, tuple) and last[0]):
            return last
        page.wait_for_timeout(int(interval * 1000))
    raise TimeoutError(f"{what} within {timeout:.0f} s; last: {last}")


def _session_file(folder: Path, name: str) -> dict:
    path = folder / name
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def drive_page(server: dict, shots: Path) -> dict:
    from playwright.sync_api import sync_playwright

    result: dict = {"console": [], "outside": [], "shots": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: result["console"].append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: result["console"].append(f"pageerror: {e}"))
        _refuse_other_hosts(page, server["origin"], result["outside"])
        try:
            started = time.monotonic()
            page.goto(f"{server['origin']}/static/index.html", timeout=120_000)
            page.wait_for_function("!!window.harness", timeout=120_000)
            result["kernel"] = _call(page, "(token) => window.harness.connect(token)", TOKEN, 120,
                                     "starting a kernel and connecting to it")
            _execute(page, SETUP, "dashboard")

            def ready():
                state = page.evaluate(READY_JS)
                return (state == "ready" or state.startswith("status:") or state == "no dashboard", state)

            result["state"] = _wait(page, "the dashboard was not analysed and drawn", ready, DASHBOARD)[1]
            result["seconds"] = time.monotonic() - started
            page.wait_for_timeout(2000)  # let the last charts settle
            result["areas"] = page.evaluate(AREAS_JS, AREAS)
            page.set_viewport_size({"width": 1400, "height": 6000})
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shots / "page.png"), full_page=True)
            result["shots"].append(shots / "page.png")
            for name in AREAS:
                area = page.locator(f".rcakit-dash-{name}").first
                path = shots / f"{name}.png"
                area.screenshot(path=str(path), timeout=30_000)
                result["shots"].append(path)
            result["round_trip"] = _accept_in_the_page(page, server)
            result["interactive"] = _interactive_explorer(page, shots)
            result["shots"].append(shots / "interactive.png")
            page.screenshot(path=str(shots / "after-accept.png"), full_page=True)
            result["shots"].append(shots / "after-accept.png")
            result["page_text"] = page.evaluate("document.body.innerText")
            result["harness"] = page.evaluate("({errors: harness.errors, loaded: harness.loaded, views: harness.views})")
        except Exception:
            page.screenshot(path=str(shots / "failure.png"), full_page=True)
            result["shots"].append(shots / "failure.png")
            raise
        finally:
            (shots / "console.txt").write_text("\n".join(result["console"]))
            browser.close()
    return result


def _accept_in_the_page(page, server: dict) -> dict:
    """Click the reviewer's Accept button; the kernel's ReviewSession must record it and tell the page back."""
    before = json.loads(_execute(page, "import json\nprint(json.dumps({'edge': list(dash.session.current.edge), "
                                       "'decisions': len(dash.session.decisions), "
                                       "'file': dash.session.path.name}))", "probe"))
    button = page.locator(".rcakit-dash-reviewer .rcakit-reviewer button[data-action='accept']").first
    button.scroll_into_view_if_needed()
    _wait(page, "the Accept button stayed disabled", lambda: button.is_enabled(), 30, 0.5)
    button.click()
    probe = ("print(json.dumps([[d.kind.value, list(d.edge or ())] for d in dash.session.decisions]))")

    def recorded():
        decisions = json.loads(_execute(page, probe, "probe"))
        return (len(decisions) > before["decisions"], decisions)

    decisions = _wait(page, "the click never reached the ReviewSession", recorded, ROUND_TRIP, 0.5)[1]
    saved = _wait(page, "the session file never showed the decision",
                  lambda: (bool(_session_file(server["folder"], before["file"]).get("undo")),
                           _session_file(server["folder"], before["file"]).get("undo")), ROUND_TRIP, 0.5)[1]
    shown = _wait(page, "the page never showed the recorded decision",
                  lambda: (page.evaluate("document.querySelector('.rcakit-dash-reviewer .rcakit-reviewer')"
                                         ".dataset.decisions") == str(len(decisions)), None), ROUND_TRIP, 0.5)
    return {"edge": before["edge"], "decisions": decisions, "saved": [[d["kind"], d["edge"]] for d in saved],
            "shown": shown[0]}


INTERACTIVE = """
from rcakit.ui import TelemetryExplorer
explorer = TelemetryExplorer(dash.incident, anomalies=dash.anomalies)  # interactive=True: plotly's FigureWidget
explorer
"""

PLOTS_JS = """
(id) => [...document.querySelectorAll('#' + id + ' .js-plotly-plot')].map((p) => ({
    title: (p._fullLayout && p._fullLayout.title && p._fullLayout.title.text) || '',
    traces: (p.data || []).length, drawn: !!p.querySelector('.main-svg'),
    height: Math.round(p.getBoundingClientRect().height)}))
"""


def _interactive_explorer(page, shots: Path) -> dict:
    """The explorer as the quickstart builds it in JupyterLab, Notebook 7 and VS Code: its series chart is plotly's
    FigureWidget, an anywidget whose module carries plotly.js."""
    _execute(page, INTERACTIVE, "interactive")

    def drawn():
        plots = page.evaluate(PLOTS_JS, "interactive")
        return (len(plots) >= 4 and all(p["traces"] and p["drawn"] for p in plots), plots)

    with contextlib.suppress(TimeoutError):
        _wait(page, "the interactive explorer did not draw", drawn, 60)
    page.wait_for_timeout(1000)
    page.locator("#interactive").screenshot(path=str(shots / "interactive.png"), timeout=30_000)
    plots = page.evaluate(PLOTS_JS, "interactive")
    # a box selection on the series chart (dragmode "select") goes to Python and moves the incident window
    window = "print(explorer.incident.incident_window)"
    before = _execute(page, window, "probe").strip()
    drag = page.locator("#interactive .js-plotly-plot").first.locator(".nsewdrag").first
    drag.scroll_into_view_if_needed()
    box = drag.bounding_box() or {"x": 0, "y": 0, "width": 0, "height": 0}
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.15, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.15 + 0.03 * step), y + step)
    page.mouse.up()
    with contextlib.suppress(TimeoutError):
        _wait(page, "the box selection never moved the incident window",
              lambda: (_execute(page, window, "probe").strip() != before, None), 30, 0.5)
    return {"plots": plots, "window_before": before, "window_after": _execute(page, window, "probe").strip()}


def test_widgets_work_under_a_standard_html_manager(bundle, server) -> None:
    shots = Path(tempfile.mkdtemp(prefix="rcakit-standard-manager-"))
    try:
        result = drive_page(server, shots)
    except Exception:
        print(f"\nscreenshots and console of the failure: {shots}\nserver log ends with:\n"
              + server["log"].read_text(errors="replace")[-2000:])
        raise
    print(f"\nHTMLManager page ({result['kernel']}): dashboard {result['state']} after {result['seconds']:.1f} s; "
          f"modules loaded {result['harness']['loaded']}; {result['harness']['views']} views; "
          f"screenshots in {shots}")
    for area in result["areas"]:
        print(f"  {area['name']}: {area['width']:.0f}x{area['height']:.0f} at y={area['y']:.0f}, "
              f"{len(area['plots'])} charts {[p['title'][:40] for p in area['plots']]}, {area['canvas']} canvas")
    print(f"  accept clicked on {result['round_trip']['edge']}: session {result['round_trip']['decisions']}, "
          f"file {result['round_trip']['saved']}")

    assert result["state"] == "ready", f"the dashboard did not finish: {result['state']} (see {shots})"
    assert not result["outside"], f"the page asked another host: {result['outside'][:3]}"
    assert not result["harness"]["errors"], f"the manager failed: {result['harness']['errors'][:3]} (see {shots})"
    assert any(m.startswith("anywidget@") for m in result["harness"]["loaded"]), result["harness"]["loaded"]
    rcakit_errors = [m for m in result["console"]
                     if any(e in m for e in WIDGET_ERRORS) or m.startswith("pageerror")
                     or (m.startswith("error") and any(k in m.lower() for k in ("rcakit", "anywidget", "widget")))]
    assert not rcakit_errors, f"errors in the console: {rcakit_errors[:3]} (see {shots}/console.txt)"
    assert not any(e in result["page_text"] for e in WIDGET_ERRORS), f"a widget failed to display (see {shots})"

    assert_dashboard_drew(result, shots)

    print(f"  interactive explorer: {result['interactive']}")
    trip = result["round_trip"]
    assert trip["decisions"][-1] == ["accept", trip["edge"]], f"the session recorded {trip['decisions']}"
    assert trip["saved"][-1] == ["accept", trip["edge"]], f"the session file holds {trip['saved']}"
    assert trip["shown"], "the page did not show the decision the kernel recorded"

    interactive = result["interactive"]
    assert len(interactive["plots"]) == 4 and all(p["traces"] and p["drawn"] and p["height"] >= 100
                                                  for p in interactive["plots"]), \
        f"the interactive explorer (plotly FigureWidget) did not draw: {interactive['plots']} (see {shots})"
    assert interactive["window_after"] != interactive["window_before"], \
        f"a box selection on the FigureWidget did not move the incident window ({interactive['window_before']})"
