"""What a loader changed on the way in: every coercion, with the rows it touched and why."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

__all__ = ["Coercion", "LoadReport"]


@dataclass(frozen=True)
class Coercion:
    """One kind of change applied to some rows of one column of one source."""

    source: str
    column: str | None
    action: str
    rows: int
    reason: str
    dropped: bool = False

    def __str__(self) -> str:
        where = f"{self.source}" + (f" [{self.column}]" if self.column else "")
        verb = "dropped" if self.dropped else "changed"
        return f"{where}: {self.action} ({self.rows} rows {verb}; {self.reason})"


@dataclass
class LoadReport:
    """The list of coercions made while loading; empty means the data was taken as it was."""

    coercions: list[Coercion] = field(default_factory=list)

    def add(
        self, source: str, column: str | None, action: str, rows: int, reason: str, *, dropped: bool = False
    ) -> None:
        if rows:
            self.coercions.append(Coercion(source, column, action, int(rows), reason, dropped))

    def extend(self, other: LoadReport) -> None:
        self.coercions.extend(other.coercions)

    @property
    def rows_dropped(self) -> int:
        return sum(c.rows for c in self.coercions if c.dropped)

    @property
    def rows_changed(self) -> int:
        return sum(c.rows for c in self.coercions if not c.dropped)

    def __bool__(self) -> bool:
        return bool(self.coercions)

    def __len__(self) -> int:
        return len(self.coercions)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.coercions)

    def find(self, action_contains: str) -> list[Coercion]:
        """The coercions whose action mentions ``action_contains`` (case-insensitive)."""
        needle = action_contains.lower()
        return [c for c in self.coercions if needle in c.action.lower()]

    def __str__(self) -> str:
        if not self.coercions:
            return "LoadReport: data taken as it was (no coercions)"
        lines = [f"LoadReport: {len(self.coercions)} coercions, {self.rows_dropped} rows dropped"]
        lines += [f"  - {c}" for c in self.coercions]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, object]:
        return {
            "rows_dropped": self.rows_dropped,
            "coercions": [c.__dict__ for c in self.coercions],
        }

    def _repr_html_(self) -> str:
        if not self.coercions:
            return "<p><b>Load report</b>: data taken as it was.</p>"
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (c.source, c.column or "", c.action, c.rows,
                                                                         "dropped" if c.dropped else "changed", c.reason))
            + "</tr>"
            for c in self.coercions
        )
        return (
            f"<details open><summary><b>Load report</b>: {len(self.coercions)} coercions, "
            f"{self.rows_dropped} rows dropped</summary><table><tr><th>source</th><th>column</th>"
            f"<th>action</th><th>rows</th><th></th><th>why</th></tr>{rows}</table></details>"
        )
