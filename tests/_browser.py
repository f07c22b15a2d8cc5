"""What every browser test needs: Debian's chromium (never a downloaded browser) and a clean stop of the
server it drove."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

import pytest

__all__ = ["CHROMIUM", "require_browser", "stop_process"]

CHROMIUM = "/usr/bin/chromium"


def require_browser() -> None:
    """Fail (never skip) without Debian's chromium; skip only when playwright's Python package is absent."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; make test does it)")
    pytest.importorskip("playwright.sync_api")


def stop_process(proc: subprocess.Popen, *, group: bool = False) -> None:
    """SIGTERM, then SIGKILL after 20 s; ``group``: the whole process group (a server started with
    ``start_new_session=True`` and its kernels)."""
    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)

    send(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait(timeout=10)
