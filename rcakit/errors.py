"""Exceptions that name the thing that is wrong and what to do about it.

Every error raised at the boundary of rcakit (a file, a column, a node, a dataset folder) is one of
these, so that a notebook user can catch ``RcakitError`` and a test can assert on the attributes
instead of parsing the message.
"""

from __future__ import annotations

__all__ = [
    "DataError",
    "DatasetLayoutError",
    "GraphChangedError",
    "MissingDependencyError",
    "RcakitError",
    "SchemaError",
]


class RcakitError(Exception):
    """Base class of every error rcakit raises on purpose."""


class DataError(RcakitError, ValueError):
    """Input data that cannot be used as it is.

    ``source`` is the file (or ``"<DataFrame>"``), ``column`` and ``row`` locate the problem when
    known, and ``hint`` says what to do. The message always contains all of them.
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        column: str | None = None,
        row: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.column = column
        self.row = row
        self.hint = hint
        where = []
        if source is not None:
            where.append(f"in {source}")
        if column is not None:
            where.append(f"column {column!r}")
        if row is not None:
            where.append(f"row {row}")
        message = problem
        if where:
            message = f"{problem} ({', '.join(where)})"
        if hint:
            message = f"{message}. {hint}"
        super().__init__(message)


class SchemaError(DataError):
    """A table lacks a required column or has one of the wrong kind."""


class DatasetLayoutError(DataError):
    """A dataset adapter was pointed at a folder that does not have the expected layout."""


class GraphChangedError(RcakitError, RuntimeError):
    """A fitted model was asked a question after its graph changed; refit first."""


class MissingDependencyError(RcakitError, ImportError):
    """An optional dependency is not installed; the message names the pip command."""
