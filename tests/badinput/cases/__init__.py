"""The bad-input corpus as data: every case, its category, its expected outcome and what it checks.

One list serves the tests (``tests/badinput/test_badinput.py`` runs each case and asserts its
outcome) and the bench (``python -m rcakit.bench reliability`` counts outcomes per category), so the
two cannot drift. Nothing here imports pytest.

A case ``run``\\ s in a scratch folder and either returns what rcakit accepted or raises. The outcome:

* ``rejected``: an rcakit error (a :class:`~rcakit.errors.DataError` must say what to do: ``hint``),
  or a ``TypeError``/``ValueError`` raised by rcakit's own code about an argument; for a file case
  the message names the file;
* ``coerced``: accepted, and what rcakit changed or noticed is reported (``Telemetry.report``, the
  result's ``notes``, or a warning);
* ``clean``: accepted as it was, nothing to report;
* ``failed``: anything else: a traceback from inside a library, a hang (the case's time limit), an
  outcome other than the expected one, or a check that does not hold (a dropped row, a wrong value,
  an error that does not name the row).
"""

from __future__ import annotations

import signal
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

__all__ = ["CASES", "CATEGORIES", "Accepted", "Case", "Outcome", "Result", "run_case"]


class Outcome(StrEnum):
    REJECTED = "rejected"
    COERCED = "coerced"
    CLEAN = "clean"
    FAILED = "failed"


@dataclass(frozen=True)
class Accepted:
    """What a flow case accepted: the value, and the notes rcakit attached to it."""

    value: Any
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Case:
    """One bad input: ``run(folder)`` feeds it to rcakit; ``check`` asserts on the result or the error."""

    id: str
    category: str
    expect: Outcome
    run: Callable[[Path], Any]
    describe: str
    check: Callable[[Any], object] | None = None  # asserts, or returns False when the outcome is wrong
    file: str | None = None  # a committed file (or one made on the fly) whose name the error must give
    slow: bool = False  # made on the fly and large: marked slow in the tests
    timeout: float = 60.0


@dataclass(frozen=True)
class Result:
    case: Case
    outcome: Outcome
    detail: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.outcome is self.case.expect


class _Timeout(BaseException):
    pass


def notes_of(value: Any) -> list[str]:
    """What rcakit reported about an accepted value."""
    if isinstance(value, Accepted):
        return list(value.notes)
    report = getattr(value, "report", None)
    if report is None and hasattr(value, "telemetry"):
        report = getattr(value.telemetry, "report", None)
    if report is not None and hasattr(report, "coercions"):
        return [str(c) for c in report.coercions]
    notes = getattr(value, "notes", None)
    return [str(n) for n in notes] if isinstance(notes, list | tuple) else []


def _own_error(exc: BaseException) -> bool:
    """An exception raised on purpose by rcakit: its own class, or a TypeError/ValueError from rcakit's code."""
    from rcakit.errors import RcakitError

    if isinstance(exc, RcakitError):
        return True
    if type(exc) not in (TypeError, ValueError):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and "/rcakit/" in frames[-1].filename.replace("\\", "/") and "site-packages" not in \
        frames[-1].filename


def _classify(case: Case, value: Any, exc: BaseException | None, caught: list[str]) -> tuple[Outcome, str]:
    from rcakit.errors import DataError

    if exc is not None:
        if not _own_error(exc):
            where = traceback.extract_tb(exc.__traceback__)
            last = f" at {where[-1].filename}:{where[-1].lineno}" if where else ""
            return Outcome.FAILED, f"raw {type(exc).__name__}{last}: {str(exc)[:300]}"
        message = str(exc)
        if isinstance(exc, DataError) and not exc.hint:
            return Outcome.FAILED, f"error without a fix: {message[:300]}"
        if case.file and Path(case.file).name not in message:
            return Outcome.FAILED, f"the error does not name the file {case.file}: {message[:300]}"
        return Outcome.REJECTED, f"{type(exc).__name__}: {message[:400]}"
    notes = notes_of(value) + caught
    if notes:
        return Outcome.COERCED, "; ".join(notes)[:600]
    return Outcome.CLEAN, "accepted as it was"


def run_case(case: Case, folder: Path) -> Result:
    """Run one case in ``folder`` within its time limit and judge the outcome (never raises)."""
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    value: Any = None
    exc: BaseException | None = None
    caught: list[str] = []
    alarm = threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer")
    previous: Any = None
    if alarm:
        def on_alarm(_signum: int, _frame: Any) -> None:
            raise _Timeout()
        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, case.timeout)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                value = case.run(folder)
            except _Timeout:
                raise
            except Exception as error:  # judged below: an rcakit error is an outcome, not a failure
                exc = error
        caught = [f"warning: {w.message}" for w in seen if issubclass(w.category, UserWarning)]
    except _Timeout:
        return Result(case, Outcome.FAILED, f"no answer within {case.timeout:g} s (hang)",
                      time.perf_counter() - started)
    except RecursionError as error:  # pragma: no cover - raised outside the case's own try
        exc = error
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    outcome, detail = _classify(case, value, exc, caught)
    if outcome is not Outcome.FAILED and outcome is not case.expect:
        return Result(case, Outcome.FAILED, f"expected {case.expect.value}, got {outcome.value}: {detail}",
                      time.perf_counter() - started)
    if outcome is not Outcome.FAILED and case.check is not None:
        try:
            if case.check(exc if exc is not None else value) is False:
                raise AssertionError(f"{case.describe}: does not hold")
        except AssertionError as error:
            return Result(case, Outcome.FAILED, f"check failed: {error or 'assertion'} ({detail[:200]})",
                          time.perf_counter() - started)
        except Exception as error:  # a check that crashes is a failure too
            return Result(case, Outcome.FAILED, f"check crashed: {type(error).__name__}: {error}",
                          time.perf_counter() - started)
    return Result(case, outcome, detail, time.perf_counter() - started)


def _collect() -> list[Case]:
    from tests.badinput.cases import files, flow, spans, times, values, wire

    cases: list[Case] = []
    for module in (files, values, times, spans, wire, flow):
        cases += module.CASES
    ids = [c.id for c in cases]
    repeated = {i for i in ids if ids.count(i) > 1}
    if repeated:
        raise ValueError(f"case ids repeat: {sorted(repeated)}")
    return cases


CASES: list[Case] = _collect()
CATEGORIES: list[str] = list(dict.fromkeys(c.category for c in CASES))
