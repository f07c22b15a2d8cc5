"""The review session's file: its JSON format, the lock that keeps two sessions off one file, and saving.

A session autosaves after every decision. What this module guarantees:

* **Atomic, versioned writes.** The whole session goes to a temporary file in the same folder, which
  then replaces the session file in one ``os.replace`` (:mod:`rcakit._io`): a reader (or a session
  reopened after a crash) sees the file before or after a decision, never half of one. The file
  carries ``"rcakit_review": FORMAT_VERSION``.
* **fsync'ed before the rename, after measuring it.** A killed kernel would lose nothing without the
  fsync (the bytes are in the operating system once ``os.replace`` returns; the SIGKILL test proves
  it), but after a power cut some file systems can leave an empty file behind a rename whose data
  was never flushed. The fsync costs about 3-4 ms per decision on a 200-edge draft (``python -m
  rcakit.bench review`` prints the decision + autosave time), inside the 50 ms a click may take.
* **One session per file.** ``<file>.lock`` holds the pid, host and a token of the session that
  writes the file. A second process is refused with an error that names the holder; a lock left by a
  process that is gone (killed, crashed) is taken over with a note. In one Python process the newer
  session takes the file over (a notebook cell run again) and the older one stops writing to it.
* **A failing disk never loses a decision.** When a save fails (disk full, read-only, permissions)
  the decision stays in memory, :attr:`SessionFile.status` says so (the GraphReviewer shows it), and
  the next decision tries again, writing the whole session.
* **A file that is not a session is never overwritten silently**: a corrupt file, or an earlier
  review with decisions, is moved aside (``.corrupt-<time>`` / ``.previous-<time>``) and reported.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import socket
import threading
import uuid
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rcakit._io import atomic_write_text
from rcakit._types import JSONObject, JSONValue
from rcakit.errors import DataError
from rcakit.graph.draft import CausalDraft

__all__ = [
    "FORMAT_VERSION",
    "SESSION_SUFFIX",
    "SaveStatus",
    "SessionFile",
    "SessionLockedError",
    "default_session_path",
    "draft_dict",
    "plain",
    "read_session_file",
    "set_aside",
]

FORMAT_VERSION = 1
SESSION_SUFFIX = ".rcakit-review.json"
LOCK_SUFFIX = ".lock"
_log = logging.getLogger("rcakit.review")


class SessionLockedError(DataError):
    """Another running session (another process) writes this review file."""


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def plain(obj: object) -> JSONValue:
    """JSON fallback: numpy scalars as Python numbers, anything else as text."""
    return obj.item() if hasattr(obj, "item") else str(obj)


def draft_dict(draft: CausalDraft) -> JSONObject:
    """``draft.to_dict()`` without its per-edge JSON round trip (the session file is dumped once, numpy-safe).

    Everything but the edges still goes through the draft's own ``to_dict``, so its format stays the
    one ``CausalDraft.from_dict`` reads.
    """
    edges = draft.edges
    draft.edges = {}
    try:
        data = draft.to_dict()
    finally:
        draft.edges = edges
    data["edges"] = [{
        "source": e.source, "target": e.target, "status": e.status.value,
        "provenance": [p.value for p in e.provenance], "confidence": float(e.confidence),
        "votes": dict(e.votes), "rationale": e.rationale, "rules": list(e.rules),
        "evidence": e.evidence, "suspicion": e.suspicion,
    } for e in edges.values()]
    return data


def default_session_path(draft: CausalDraft, folder: str | Path | None = None) -> Path:
    """``<name>.rcakit-review.json`` in ``folder`` (the notebook's working directory by default).

    The name is the draft's ``meta["name"]`` (or ``meta["incident"]``), else the alarm node, else
    ``review``; characters unsafe in file names become ``-`` (so a name can never leave the folder).
    """
    raw = str(draft.meta.get("name") or draft.meta.get("incident") or draft.alarm or "review")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-.") or "review"
    return Path(folder or Path.cwd()) / f"{slug[:80]}{SESSION_SUFFIX}"


def read_session_file(path: Path) -> JSONObject:
    """The parsed session file, or a :class:`DataError` naming the file and what is wrong with it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError("review session file not found", source=str(path),
                        hint="Sessions autosave to '<name>.rcakit-review.json' beside the notebook") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"not a review session: byte {exc.start} is not UTF-8 text", source=str(path),
                        hint="The file is damaged; a new ReviewSession on this path moves it aside") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON: {exc.msg} at line {exc.lineno}", source=str(path),
                        hint="The file was edited by hand or damaged (autosaves are atomic); a new "
                             "ReviewSession on this path moves it aside as '.corrupt-<time>'") from exc
    if not isinstance(raw, dict):
        raise DataError("not a review session (expected a JSON object)", source=str(path),
                        hint="Point at a file written by ReviewSession")
    version = raw.get("rcakit_review")
    if version != FORMAT_VERSION:
        raise DataError(f"review session format version {version!r} is not supported", source=str(path),
                        hint=f"This rcakit reads version {FORMAT_VERSION}")
    return raw


def set_aside(path: Path, label: str) -> Path:
    """Rename ``path`` to ``<path>.<label>-<UTC time>`` (a new name, never over another file)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for n in range(1000):
        target = path.with_name(f"{path.name}.{label}-{stamp}" + (f"-{n}" if n else ""))
        if not target.exists():
            os.replace(path, target)
            return target
    raise DataError("cannot find a free name to move the file aside", source=str(path),
                    hint="Delete old '.corrupt-*' / '.previous-*' copies beside it")


# -- saving -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SaveStatus:
    """The state of a session's autosave: ``ok``, or the problem and how many decisions wait in memory."""

    ok: bool = True
    message: str = ""
    unsaved: int = 0
    saved_at: str = ""

    @property
    def warning(self) -> str:
        return "" if self.ok else self.message


def _host() -> str:
    return socket.gethostname()


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (Linux), to tell a live holder from a reused pid; None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else None


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        if state in ("Z", "X"):  # killed, not yet reaped: gone as far as the file is concerned
            return False
    except (OSError, IndexError):
        pass
    now_start = _start_time(pid)
    return not (start and now_start and start != now_start)  # the pid was reused by another program


#: Files held by sessions of this process: resolved path -> the SessionFile holding it.
_HELD: weakref.WeakValueDictionary[str, SessionFile] = weakref.WeakValueDictionary()
_HELD_LOCK = threading.Lock()


def _release(lock: Path, token: str) -> None:
    """Remove the lock file if it is still ours (also run when the session is collected or Python exits)."""
    with contextlib.suppress(OSError, ValueError):
        if json.loads(lock.read_text(encoding="utf-8")).get("token") == token:
            lock.unlink()


class SessionFile:
    """The autosave file of one session: holds its lock, writes it, and remembers whether the last save worked."""

    def __init__(self, path: Path, *, takeover: bool = False, fresh: bool = False) -> None:
        self.path = Path(path)
        #: A new review: before its first write, a file already there is looked at (and kept if it matters).
        self.fresh = fresh
        self.lock_path = self.path.with_name(self.path.name + LOCK_SUFFIX)
        self.token = uuid.uuid4().hex
        self.notes: list[str] = []
        self.status = SaveStatus()
        self.held = False
        self.superseded = False
        self._failures = 0
        self._finalizer: weakref.finalize | None = None  # type: ignore[type-arg]
        self._acquire(takeover=takeover)

    # -- the lock ----------------------------------------------------------------------------------
    def _info(self) -> JSONObject:
        pid = os.getpid()
        return {"pid": pid, "host": _host(), "token": self.token, "since": now(), "start": _start_time(pid),
                "file": self.path.name}

    def _note(self, text: str) -> None:
        self.notes.append(text)
        _log.warning("%s", text)

    def _acquire(self, *, takeover: bool) -> None:
        key = str(self.path.resolve())
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = self._create_lock()
        except OSError as exc:  # a read-only or full folder: work in memory, retry at the next save
            self._fail(f"cannot lock {self.path} ({exc.strerror or exc}); decisions are kept in memory and "
                       "saved when the folder is writable again")
            return
        if not created:
            holder = self._read_lock()
            mine = holder.get("pid") == os.getpid() and holder.get("host") == _host()
            with _HELD_LOCK:
                other = _HELD.get(key)
            if mine and other is not None and other is not self and other.held:
                other._lose(f"a newer review session in this process took over {self.path}; this one no longer "
                            "saves to it (its decisions are in that file up to now). Use the newer session, or "
                            "save(path) this one elsewhere")
                self._note(f"took over {self.path} from an older session in this process")
            elif mine or not holder:
                pass  # our own leftover (a session collected without closing), or an unreadable lock
            elif holder.get("host") == _host() and not _alive(int(holder.get("pid") or 0), holder.get("start")):
                self._note(f"took over the lock of {self.path} left by process {holder.get('pid')}, which is no "
                           f"longer running (since {holder.get('since', '?')}): it crashed or was killed")
            elif not takeover:
                where = (f"process {holder.get('pid')} on host {holder.get('host')!r}"
                         + ("" if holder.get("host") == _host() else " (cannot check from here whether it runs)"))
                raise SessionLockedError(
                    f"another review session writes this file: {where}, since {holder.get('since', '?')}",
                    source=str(self.path),
                    hint="Close that session (session.close() or shut its kernel down), review into another file "
                         "with path=..., or pass takeover=True if that session is gone")
            else:
                self._note(f"took over {self.path} from process {holder.get('pid')} on host "
                           f"{holder.get('host')!r} (takeover=True)")
            atomic_write_text(self.lock_path, json.dumps(self._info()), durable=False)
            if self._read_lock().get("token") != self.token:  # another process took it in between
                raise SessionLockedError("another review session took this file at the same moment",
                                         source=str(self.path), hint="Try again, or use another file")
        self.held = True
        with _HELD_LOCK:
            _HELD[key] = self
        self._finalizer = weakref.finalize(self, _release, self.lock_path, self.token)
        self._sweep_temporaries()

    def _create_lock(self) -> bool:
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self._info()))
        return True

    def _read_lock(self) -> JSONObject:
        try:
            data = json.loads(self.lock_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _sweep_temporaries(self) -> None:
        """Temporary files of writes cut short by a killed process (only their writer used them)."""
        with contextlib.suppress(OSError):
            for tmp in self.path.parent.glob(f".{self.path.name}.*.tmp"):
                tmp.unlink(missing_ok=True)

    def _lose(self, why: str) -> None:
        self.held = False
        self.superseded = True
        if self._finalizer is not None:
            self._finalizer.detach()
        self.status = SaveStatus(False, why, self.status.unsaved, self.status.saved_at)
        _log.warning("%s", why)

    def release(self) -> None:
        """Give the file up (the lock is removed); later saves are refused until :meth:`reacquire`."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self.held = False

    # -- writing -----------------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        self._failures += 1
        first = self.status.ok
        self.status = SaveStatus(False, message, self.status.unsaved + 1, self.status.saved_at)
        if first:
            _log.warning("%s", message)

    def write(self, text: str, *, durable: bool = True) -> bool:
        """Save ``text`` (the whole session) if this session holds the file; False (and :attr:`status`) if not."""
        if self.superseded:
            self.status = SaveStatus(False, self.status.message, self.status.unsaved + 1, self.status.saved_at)
            return False
        if not self.held:
            try:
                self._acquire(takeover=False)
            except SessionLockedError as exc:
                self._fail(f"not saved: {exc}")
                return False
            if not self.held:
                self.status = SaveStatus(False, self.status.message, self.status.unsaved + 1, self.status.saved_at)
                return False
        holder = self._read_lock().get("token")
        if holder is not None and holder != self.token:
            self._lose(f"another session took over {self.path}; this session's decisions are kept in memory "
                       "only. Save them elsewhere with save(path)")
            return False
        try:
            if self.fresh:
                for note in prepare_new_file(self.path):
                    self._note(note)
                self.fresh = False
            atomic_write_text(self.path, text, durable=durable)
        except OSError as exc:
            reason = {errno.ENOSPC: "the disk is full", errno.EROFS: "the disk is read-only",
                      errno.EACCES: "permission denied", errno.EDQUOT: "the disk quota is exceeded"}.get(
                exc.errno or 0, exc.strerror or str(exc))
            self._fail(f"could not save the review to {self.path}: {reason}. Decisions are kept in memory and "
                       "saved again at the next decision (or call save(path) with another file)")
            return False
        if not self.status.ok:
            self.notes.append(f"saved again to {self.path} after {self._failures} failed attempt(s)")
            _log.warning("review saved again to %s", self.path)
        self._failures = 0
        self.status = SaveStatus(True, "", 0, now())
        return True


def prepare_new_file(path: Path) -> list[str]:
    """Before a new session writes ``path``: move aside a corrupt file or an earlier review with decisions.

    Returns the notes to report. An earlier session file without a decision is simply replaced
    (nothing is lost).
    """
    if not path.exists():
        return []
    try:
        data = read_session_file(path)
    except DataError as exc:
        kept = set_aside(path, "corrupt")
        return [f"{path.name} was not a readable review session ({exc.problem}); it was kept as {kept.name} "
                "and a new review started"]
    decisions = len(data.get("undo") or []) + len(data.get("redo") or [])
    if not decisions:
        return []
    kept = set_aside(path, "previous")
    return [f"{path.name} held an earlier review with {decisions} decisions; it was kept as {kept.name} "
            f"(ReviewSession.open({str(kept)!r}) restores it) and a new review started"]
