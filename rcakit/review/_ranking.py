"""Which edges to show the reviewer next: ``rcakit.graph.validate.next_batch`` without the decided ones.

:func:`wide_frame` turns the review data into the pandas frame discovery reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, overload

from rcakit.graph.draft import CausalDraft
from rcakit.graph.validate import SuspectEdge, next_batch

if TYPE_CHECKING:
    import pandas as pd

    from rcakit.graph.data import WideData

__all__ = ["rank", "wide_frame"]


def rank(
    draft: CausalDraft, data: WideData | None = None, *, k: int = 5, alarm: str | None = None,
    exclude: Iterable[tuple[str, str]] = (), order: str = "expected_gain",
) -> tuple[list[SuspectEdge], str]:
    """The next ``k`` suspicious edges (in ``order``, a ``QuestionOrder`` value) and the ranking's name, ``"validate"``."""
    excluded: set[tuple[str, str]] = {(str(a), str(b)) for a, b in exclude}
    # Ask for a few more than k: the session also drops edges it already decided.
    found = next_batch(draft, data, k=k + len(excluded), alarm=alarm, exclude=tuple(sorted(excluded)), order=order)
    return [s for s in found if tuple(s.edge) not in excluded][:k], "validate"


@overload
def wide_frame(data: None, nodes: Iterable[str]) -> None: ...
@overload
def wide_frame(data: WideData, nodes: Iterable[str]) -> pd.DataFrame: ...
def wide_frame(data: WideData | None, nodes: Iterable[str]) -> pd.DataFrame | None:
    """A pandas frame with one column per node found in ``data`` (pandas, polars or AlignedMetrics)."""
    import pandas as pd

    from rcakit.errors import DataError

    if data is None:
        return None
    frame = data
    if hasattr(frame, "to_pandas") and not isinstance(frame, pd.DataFrame):
        frame = frame.to_pandas()
    if not isinstance(frame, pd.DataFrame):
        raise DataError(f"review data must be a wide table (pandas or polars frame), got {type(data).__name__}",
                        hint="Pass incident.aligned(freq) or a frame with one column per 'entity:metric' node")
    wanted = [n for n in nodes if n in frame.columns]
    return frame[wanted].apply(pd.to_numeric, errors="coerce")
