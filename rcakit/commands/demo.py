"""``rcakit demo``: open the guided tutorial in JupyterLab (or run it headless and write the report).

``rcakit demo`` starts JupyterLab on ``notebooks/01_quickstart.ipynb`` and opens it in the default
browser. ``rcakit demo --no-browser`` is the scriptable form: once the server answers it prints one line

    rcakit demo: ready at http://127.0.0.1:8888/lab/tree/01_quickstart.ipynb?token=...

(match ``ready at (\\S+)``) and keeps serving until it is interrupted or terminated; JupyterLab runs in
the same process group, so killing the group stops everything. ``--headless`` runs the notebook without
a browser (nbclient) and writes it as HTML.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from rcakit._paths import repo_root

__all__ = ["QUICKSTART", "add_parser", "lab_command", "notebooks_dir", "run"]

QUICKSTART = "01_quickstart.ipynb"
DEFAULT_PORT = 8888
READY = "rcakit demo: ready at "


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="open the quickstart tutorial in JupyterLab",
                       description="Start JupyterLab on the quickstart notebook (or run it headless).")
    p.add_argument("--headless", action="store_true",
                   help="do not start JupyterLab: run the quickstart notebook and write it as HTML to --report")
    p.add_argument("--report", default="quickstart-report.html", help="where --headless writes the report")
    p.add_argument("--timeout", type=float, default=600,
                   help="--headless: seconds one cell may run before the run is stopped (default 600)")
    p.add_argument("--no-browser", action="store_true",
                   help="do not open a browser; print the notebook's URL (with its token) on one line")
    p.add_argument("--port", type=int, default=None,
                   help=f"port of JupyterLab (default {DEFAULT_PORT}, or a free one when it is taken; "
                        "0 picks a free one); an explicit busy port is an error")
    p.add_argument("--ip", default="127.0.0.1", help="address JupyterLab listens on (default 127.0.0.1)")
    p.add_argument("--token", default=None,
                   help="the access token (default: a random one, printed in the URL)")
    p.add_argument("--notebooks", default=None, metavar="FOLDER",
                   help="serve this folder (it must hold 01_quickstart.ipynb) instead of the checkout's "
                        "notebooks/, e.g. a copy, so that the tutorial's files are written there")


def notebooks_dir() -> Path:
    root = repo_root()
    if root is not None and (root / "notebooks").is_dir():
        return root / "notebooks"
    return Path.cwd() / "notebooks"


def _port_is_free(ip: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((ip, port))
        except OSError:
            return False
    return True


def _free_port(ip: str) -> int:
    with socket.socket() as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


def choose_port(ip: str, requested: int | None) -> int:
    """``requested`` if given (0 means any free port), else 8888 when free, else a free port."""
    if requested == 0:
        return _free_port(ip)
    if requested is not None:
        return requested
    return DEFAULT_PORT if _port_is_free(ip, DEFAULT_PORT) else _free_port(ip)


def lab_command(folder: Path, *, ip: str, port: int, token: str, open_browser: bool) -> list[str]:
    """The ``jupyter lab`` command line the demo runs (offline: no news, no update checks)."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}", f"--ServerApp.ip={ip}",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--LabApp.default_url=/lab/tree/{quote(QUICKSTART)}", "--LabApp.news_url=",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    cmd.append("--ServerApp.open_browser=True" if open_browser else "--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers often run as root; Jupyter refuses otherwise
        cmd.append("--allow-root")
    return cmd


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.3)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate JupyterLab (it shuts its kernels down on SIGTERM); a second Ctrl-C or SIGTERM kills it."""

    def force(signum: int, frame: object) -> None:
        if proc.poll() is None:
            proc.kill()

    signal.signal(signal.SIGTERM, force)
    signal.signal(signal.SIGINT, force)
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()


def _serve(folder: Path, args: argparse.Namespace) -> int:
    host = "127.0.0.1" if args.ip in ("", "0.0.0.0", "*") else args.ip
    try:
        port = choose_port(host, args.port)
    except OSError as exc:
        print(f"rcakit demo: cannot use address {args.ip}: {exc}", file=sys.stderr)
        return 2
    if args.port not in (None, 0) and not _port_is_free(host, port):
        print(f"rcakit demo: port {port} on {host} is in use; pick another with --port, or --port 0 for any free one",
              file=sys.stderr)
        return 2
    token = args.token if args.token is not None else secrets.token_urlsafe(18)
    url_host = f"[{host}]" if ":" in host else host
    base = f"http://{url_host}:{port}"
    url = f"{base}/lab/tree/{quote(QUICKSTART)}" + (f"?token={quote(token)}" if token else "")
    cmd = lab_command(folder, ip=args.ip, port=port, token=token, open_browser=not args.no_browser)
    print(f"rcakit demo: starting JupyterLab on {folder / QUICKSTART} (Ctrl-C to stop)", flush=True)
    proc = subprocess.Popen(cmd, cwd=folder)

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_term), signal.getsignal(signal.SIGINT)
    try:
        status = f"{base}/api/status" + (f"?token={quote(token)}" if token else "")
        if not _wait_ready(status, proc, timeout=300):
            code = proc.poll()
            reason = f"exited with code {code}" if code is not None else "did not answer within 300 s"
            print(f"rcakit demo: JupyterLab {reason} (its messages are above)", file=sys.stderr)
            _stop(proc)
            return 1
        print(READY + url, flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        print("rcakit demo: stopping JupyterLab", file=sys.stderr, flush=True)
        _stop(proc)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])


def run(args: argparse.Namespace) -> int:
    folder = Path(args.notebooks).resolve() if args.notebooks else notebooks_dir()
    notebook = folder / QUICKSTART
    if not notebook.is_file():
        hint = ("pass a folder that holds it with --notebooks" if args.notebooks
                else "run from a clone of the rcakit repository")
        print(f"rcakit demo: {notebook} not found; {hint}", file=sys.stderr)
        return 2
    if args.headless:
        from rcakit.commands._headless import run_quickstart

        return run_quickstart(notebook, Path(args.report), timeout=args.timeout)
    return _serve(folder, args)
