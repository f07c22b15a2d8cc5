"""Review decisions are never lost: atomic versioned autosave, SIGKILL, two sessions, failing disks, corrupt files."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import rcakit.review._autosave as autosave
from rcakit.errors import DataError
from rcakit.graph import CausalDraft
from rcakit.review import ReviewSession
from rcakit.review.session import SessionLockedError

ROOT = Path(__file__).resolve().parents[2]

# A child that reviews until it is killed: it reopens the file when one exists (taking over the lock
# its killed predecessor left), and prints an ack line only after each decision has returned.
CHILD = textwrap.dedent("""
    import sys
    from pathlib import Path
    from rcakit.graph import CausalDraft
    from rcakit.review import ReviewSession

    path, tag = Path(sys.argv[1]), sys.argv[2]
    if path.exists():
        session = ReviewSession.open(path)
    else:
        draft = CausalDraft(alarm="s0:latency", meta={"name": "kill"})
        for i in range(40):
            draft.add_edge(f"s{i + 1}:latency", f"s{i}:latency", provenance="knowledge", rationale="r" * 50)
        session = ReviewSession(draft, path=path)
    print("ready", " | ".join(session.notes), flush=True)
    n = 0
    while True:
        i = n % 40
        edge = (f"s{i + 1}:latency", f"s{i}:latency")
        decide = session.accept if (n // 40) % 2 == 0 else session.reject
        decision = decide(*edge, reason=f"{tag}-{n}")
        print("ack", decision.id, decision.reason, session.save_status.ok, flush=True)
        n += 1
        if len(sys.argv) > 3 and n >= int(sys.argv[3]):
            input()
""")


def draft(name: str = "review", n: int = 6) -> CausalDraft:
    d = CausalDraft(alarm="s0:latency", meta={"name": name})
    for i in range(n):
        d.add_edge(f"s{i + 1}:latency", f"s{i}:latency", provenance="knowledge")
    return d


def edges(n: int = 6) -> list[tuple[str, str]]:
    return [(f"s{i + 1}:latency", f"s{i}:latency") for i in range(n)]


def start_child(path: Path, tag: str, stop_after: int | None = None) -> subprocess.Popen[str]:
    args = [sys.executable, "-c", CHILD, str(path), tag] + ([str(stop_after)] if stop_after else [])
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), f"child did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
    return proc


def kill_during_decisions(path: Path, tag: str, delay: float) -> list[str]:
    """Start a child, let it decide for ``delay`` seconds, SIGKILL it; the reasons it acked before dying."""
    proc = start_child(path, tag)
    assert proc.stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.join(10)  # acks printed before the kill are still in the pipe
    return [parts[2] for parts in map(str.split, lines) if len(parts) == 4 and parts[0] == "ack"]


def check_reloaded(path: Path, acked: list[str]) -> ReviewSession:
    raw = json.loads(path.read_text(encoding="utf-8"))  # valid JSON, whole
    assert raw["rcakit_review"] == autosave.FORMAT_VERSION
    session = ReviewSession.open(path, autosave=False)
    reasons = [d.reason for d in session.decisions]
    missing = [r for r in acked if r not in set(reasons)]
    assert not missing, f"{len(missing)} acknowledged decisions lost, first {missing[:3]}"
    ids = [d.id for d in session.decisions]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    return session


def test_sigkill_once_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    path = tmp_path / "kill.rcakit-review.json"
    acked = kill_during_decisions(path, "a", 0.4)
    assert acked, "the child made no decision before the kill"
    check_reloaded(path, acked)
    assert (path.with_name(path.name + ".lock")).exists(), "a killed session leaves its lock behind"


@pytest.mark.slow
def test_sigkill_many_times_during_a_loop_of_decisions(tmp_path: Path) -> None:
    """25 children in turn continue one review and are killed at a random moment; nothing acked is ever lost."""
    rng = random.Random(19)
    path = tmp_path / "kill.rcakit-review.json"
    acked: list[str] = []
    for round_ in range(25):
        got = kill_during_decisions(path, f"k{round_}", rng.uniform(0.05, 0.5))
        acked += got
        session = check_reloaded(path, acked)
        del session
    assert len(acked) >= 50
    assert not list(tmp_path.glob(".*.tmp")) or len(list(tmp_path.glob(".*.tmp"))) <= 1, \
        "temporary files of cut writes are swept by the next session"


def test_file_is_versioned_and_valid_after_every_decision(tmp_path: Path) -> None:
    path = tmp_path / "v.json"
    session = ReviewSession(draft(), path=path)
    for n, edge in enumerate(edges()):
        session.accept(*edge, reason=str(n))
        data = json.loads(path.read_text())
        assert data["rcakit_review"] == autosave.FORMAT_VERSION
        assert [d["reason"] for d in data["undo"]] == [str(i) for i in range(n + 1)]
    assert session.save_status.ok and session.save_status.saved_at
    assert not list(tmp_path.glob(".*.tmp"))


def test_autosave_is_fsynced_before_the_rename(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rcakit._io as io

    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(io.os, "fsync", lambda fd: (synced.append(fd), real(fd))[1])
    session = ReviewSession(draft(), path=tmp_path / "f.json")
    before = len(synced)
    session.accept(*edges()[0])
    assert len(synced) == before + 1


# -- two sessions on one file --------------------------------------------------------------------------
def test_a_second_process_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "shared.json"
    child = start_child(path, "c", stop_after=2)  # decides twice, then waits holding the file
    try:
        assert child.stdout is not None
        assert child.stdout.readline().startswith("ack") and child.stdout.readline().startswith("ack")
        with pytest.raises(SessionLockedError) as info:
            ReviewSession.open(path)
        exc = info.value
        assert f"process {child.pid}" in exc.problem and socket.gethostname() in exc.problem
        assert exc.source == str(path) and "takeover=True" in (exc.hint or "")
        with pytest.raises(SessionLockedError):
            ReviewSession(draft(), path=path)
        assert len(json.loads(path.read_text())["undo"]) == 2, "the refused session did not touch the file"
        # Taking over on purpose: the child's next decision is kept in its memory only and says so.
        taken = ReviewSession.open(path, takeover=True)
        assert any(f"process {child.pid}" in n for n in taken.notes)
        taken.reject(*edges()[0], reason="mine")
        assert child.stdin is not None
        child.stdin.write("\n")
        child.stdin.flush()
        line = child.stdout.readline().split()
        assert line[0] == "ack" and line[3] == "False", "the child must see that it no longer saves"
        assert [d.reason for d in ReviewSession.open(path, autosave=False).decisions][-1] == "mine"
    finally:
        child.kill()
        child.wait()


def test_stale_lock_of_a_dead_process_is_taken_over_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "stale.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lock = path.with_name(path.name + ".lock")
    lock.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname(), "token": "old", "since": "then"}))
    session = ReviewSession(draft(), path=path)
    assert any(str(dead.pid) in n and "no longer running" in n for n in session.notes)
    session.accept(*edges()[0])
    assert session.save_status.ok
    assert json.loads(lock.read_text())["pid"] == os.getpid()
    session.close()
    assert not lock.exists(), "close() gives the file up"


def test_a_newer_session_in_the_same_process_takes_over(tmp_path: Path) -> None:
    path = tmp_path / "cell.json"
    old = ReviewSession(draft(), path=path)
    old.accept(*edges()[0], reason="old-1")
    new = ReviewSession.open(path)  # the notebook cell run again
    new.reject(*edges()[1], reason="new-1")
    old.accept(*edges()[2], reason="old-2")  # the old object is still around
    assert not old.save_status.ok and "newer review session" in old.save_status.warning
    reasons = [d.reason for d in ReviewSession.open(path, autosave=False).decisions]
    assert reasons == ["old-1", "new-1"], "the superseded session must not overwrite the newer one's file"
    assert old.decisions[-1].reason == "old-2", "its decision is kept in memory"


# -- failing disks ------------------------------------------------------------------------------------
def fail_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def broken(path: object, text: str, *, durable: bool = True) -> Path:
        raise OSError(code, os.strerror(code), str(path))
    monkeypatch.setattr(autosave, "atomic_write_text", broken)


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "disk is full"), (errno.EROFS, "read-only")])
def test_full_or_read_only_disk_warns_in_the_widget_and_keeps_decisions(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str) -> None:
    from rcakit.ui import GraphReviewer

    path = tmp_path / "disk.json"
    reviewer = GraphReviewer(draft(), path=path, start=False)
    session = reviewer.session
    reviewer.accept(*edges()[0], reason="saved")
    with monkeypatch.context() as patch:
        fail_writes(patch, code)
        reviewer.accept(*edges()[1], reason="memory-1")
        reviewer.reject(*edges()[2], reason="memory-2")
        status = session.save_status
        assert not status.ok and words in status.warning and status.unsaved == 2
        assert "NOT SAVED" in reviewer.summary["text"] and words in reviewer.summary["text"]
        assert reviewer.summary["save_warning"] == status.warning
        assert [d.reason for d in session.decisions] == ["saved", "memory-1", "memory-2"]
        assert [d["reason"] for d in json.loads(path.read_text())["undo"]] == ["saved"]
        with pytest.raises(DataError, match=words):
            session.save()  # an explicit save fails loudly
    reviewer.accept(*edges()[3], reason="back")  # the disk works again: the next decision saves everything
    assert session.save_status.ok and "NOT SAVED" not in reviewer.summary["text"]
    assert [d["reason"] for d in json.loads(path.read_text())["undo"]] == ["saved", "memory-1", "memory-2", "back"]
    assert any("saved again" in n for n in session.notes)


def test_read_only_folder_from_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read-only when the review starts, over an earlier review: nothing lost of either once it is writable."""
    path = tmp_path / "ro.json"
    earlier = ReviewSession(draft(), path=path)
    earlier.reject(*edges()[5], reason="earlier")
    earlier.close()

    def no_lock(self: autosave.SessionFile) -> bool:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self.lock_path))

    with monkeypatch.context() as patch:
        patch.setattr(autosave.SessionFile, "_create_lock", no_lock)
        session = ReviewSession(draft(), path=path)
        session.accept(*edges()[0], reason="one")
        assert not session.save_status.ok and "cannot lock" in session.save_status.warning
        assert [d["reason"] for d in json.loads(path.read_text())["undo"]] == ["earlier"], "untouched"
    session.accept(*edges()[1], reason="two")
    assert session.save_status.ok
    assert [d["reason"] for d in json.loads(path.read_text())["undo"]] == ["one", "two"]
    (kept,) = tmp_path.glob("ro.json.previous-*")
    assert [d["reason"] for d in json.loads(kept.read_text())["undo"]] == ["earlier"]
    assert any(kept.name in n for n in session.notes)


def test_failed_atomic_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rcakit._io as io

    target = tmp_path / "x.json"
    target.write_text("old")

    def replace_fails(src: str, dst: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(io.os, "replace", replace_fails)
    with pytest.raises(OSError):
        io.atomic_write_text(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.json"]


# -- files that are not what they should be ------------------------------------------------------------
def test_corrupt_autosave_is_moved_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    garbage = b'{"rcakit_review": 1, "draft": {"nod\x00\xff'
    path.write_bytes(garbage)
    with pytest.raises(DataError) as info:
        ReviewSession.open(path)
    assert info.value.source == str(path) and "moves it aside" in (info.value.hint or "")
    assert path.read_bytes() == garbage, "open() leaves a damaged file as it is"
    session = ReviewSession(draft(), path=path)
    (kept,) = tmp_path.glob("c.json.corrupt-*")
    assert kept.read_bytes() == garbage
    assert any(kept.name in n for n in session.notes)
    assert json.loads(path.read_text())["rcakit_review"] == autosave.FORMAT_VERSION


def test_an_earlier_review_with_decisions_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    first = ReviewSession(draft(), path=path)
    first.accept(*edges()[0], reason="keep me")
    first.close()
    second = ReviewSession(draft(), path=path)
    (kept,) = tmp_path.glob("p.json.previous-*")
    assert any("1 decisions" in n and kept.name in n for n in second.notes)
    assert [d.reason for d in ReviewSession.open(kept, autosave=False).decisions] == ["keep me"]
    # A file without decisions is simply replaced: re-running a cell does not pile up copies.
    second.close()
    ReviewSession(draft(), path=path).close()
    assert len(list(tmp_path.glob("p.json.previous-*"))) == 1


def test_session_file_of_another_kind_is_refused_by_open(tmp_path: Path) -> None:
    path = tmp_path / "o.json"
    path.write_text(json.dumps({"rcakit_review": 1, "draft": "not a draft"}))
    with pytest.raises(DataError, match="not a complete review session") as info:
        ReviewSession.open(path)
    assert info.value.source == str(path)
