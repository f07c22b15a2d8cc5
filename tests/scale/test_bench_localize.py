"""``python -m rcakit.bench localize --dask``: the same tables as the serial run (seconds aside)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rcakit.bench import localize

ARGS = ["--datasets", "sim,simset", "--no-drafted", "--methods", "structural,robust_z", "--fault-seeds", "",
        "--set-seeds", "5"]


def _tables(text: str) -> list[list[dict[str, str]]]:
    """Every Markdown table printed, as rows of {column: cell}, timing columns left out."""
    lines = text.splitlines()
    tables: list[list[dict[str, str]]] = []
    header: list[str] = []
    for i, line in enumerate(lines):
        if not line.startswith("|") or set(line) <= set("|-"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if i + 1 < len(lines) and lines[i + 1].startswith("|---"):  # a header (tables may follow each other)
            header = cells
            tables.append([])
        else:
            tables[-1].append({h: c for h, c in zip(header, cells, strict=True) if h != "median s"})
    return tables


@pytest.mark.slow
def test_dask_run_prints_the_serial_tables(shared_datasets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert localize.main(ARGS) == 0
    serial = capsys.readouterr().out
    assert localize.main([*ARGS, "--dask"]) == 0
    on_dask = capsys.readouterr().out
    assert "Dask: 2 workers; dashboard" in on_dask
    want, got = _tables(serial), _tables(on_dask)
    assert len(want) == 3 and sum(len(t) for t in want) > 10  # sim, simset, then the combined table
    assert got == want
