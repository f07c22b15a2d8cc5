"""Helpers the case modules share: committed files, loader cases, checks on errors and reports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.badinput.cases import Case, Outcome

FILES = Path(__file__).resolve().parents[1] / "files"
REJECTED, COERCED, CLEAN = Outcome.REJECTED, Outcome.COERCED, Outcome.CLEAN


def f(name: str) -> Path:
    return FILES / name


def loader(reader: Callable[..., Any], name: str, **kwargs: Any) -> Callable[[Path], Any]:
    """A run function reading the committed file ``name`` with ``reader(**kwargs)``."""
    def run(_folder: Path) -> Any:
        return reader(f(name), **kwargs)
    return run


def file_case(id: str, category: str, name: str, reader: Callable[..., Any], expect: Outcome, describe: str,
              check: Callable[[Any], object] | None = None, **kwargs: Any) -> Case:
    return Case(id, category, expect, loader(reader, name, **kwargs), describe, check, file=name)


def where(column: str | None = None, row: int | None = None, *words: str) -> Callable[[Any], None]:
    """Check an error's column, row and words of its problem."""
    def check(exc: Any) -> None:
        if column is not None:
            assert exc.column == column, f"column {exc.column!r}, expected {column!r}"
        if row is not None:
            assert exc.row == row, f"row {exc.row!r}, expected {row}"
        for word in words:
            assert word in str(exc), f"{word!r} not in {exc}"
    return check


def says(*words: str) -> Callable[[Any], None]:
    def check(exc: Any) -> None:
        for word in words:
            assert word in str(exc), f"{word!r} not in {exc}"
    return check


def coerced(action: str, rows: int | None = None, column: str | None = None) -> Callable[[Any], list[Any]]:
    """Find one coercion in a Telemetry's report and check its rows / column; returns the matches."""
    def find(tel: Any) -> list[Any]:
        found = tel.report.find(action)
        assert found, f"no coercion {action!r} in {[str(c) for c in tel.report]}"
        if rows is not None:
            assert found[0].rows == rows, f"{action!r}: {found[0].rows} rows, expected {rows}"
        if column is not None:
            assert found[0].column == column, f"{action!r}: column {found[0].column!r}, expected {column!r}"
        assert not found[0].dropped
        return found
    return find


def heights(metrics: int = 0, logs: int = 0, spans: int = 0) -> Callable[[Any], None]:
    def check(tel: Any) -> None:
        got = (tel.metrics.height, tel.logs.height, tel.spans.height)
        assert got == (metrics, logs, spans), f"rows (metrics, logs, spans) {got}, expected {(metrics, logs, spans)}"
        assert tel.report.rows_dropped == 0, "no row may be dropped"
    return check


def all_of(*checks: Callable[[Any], Any]) -> Callable[[Any], None]:
    """Every check holds (one that returns False fails, as in a Case's own check)."""
    def check(value: Any) -> None:
        for number, one in enumerate(checks):
            assert one(value) is not False, f"check {number + 1} of {len(checks)} does not hold"
    return check
