"""Lazy reading: one incident's rows read from a store equal an eager read of the same files, filtered."""

from __future__ import annotations

import glob
import gzip
import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

import rcakit
from rcakit.bench.scale import read_manifest, write_store
from rcakit.errors import DataError, SchemaError
from rcakit.telemetry.loaders import read_tables
from rcakit.telemetry.loaders.lazy import TelemetryStore, restrict


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 250 k spans at 20 per second: 3.5 hours, four hourly partitions per kind, three planted faults
    return write_store(tmp_path_factory.mktemp("store"), 250_000, n_faults=3, seed=7)


def _files(root: Path) -> dict[str, list[str]]:
    return {kind: sorted(glob.glob(f"{root}/{kind}/**/*.parquet", recursive=True))
            for kind in ("spans", "logs", "metrics")}


def _assert_equal(lazy: rcakit.Telemetry, eager: rcakit.Telemetry) -> None:
    for kind in ("metrics", "logs", "spans"):
        a, b = getattr(lazy, kind), getattr(eager, kind)
        assert a.schema == b.schema, kind
        assert a.equals(b), f"{kind}: lazy {a.shape} != eager {b.shape}"


def test_one_incident_equals_eager_read_and_opens_only_its_partitions(store: Path) -> None:
    _, faults = read_manifest(store)
    window = faults[1].window
    entities = ["svc-00", faults[1].service]
    lazy_store = TelemetryStore.open(store)
    tel = lazy_store.incident(window, entities=entities)
    eager = read_tables(**_files(store)).window(window).select(entities=entities)
    _assert_equal(tel, eager)
    assert tel.spans.height > 1000 and tel.logs.height > 1000 and tel.metrics.height > 100
    assert set(tel.entities()) == set(entities)
    # a 40-minute window touches one or two of the four hourly partitions of each kind
    stats = lazy_store.last_read
    assert all(stats.files[k] == stats.partitions[k] <= 2 for k in ("spans", "logs", "metrics"))
    assert all(k.partitions == 4 for k in lazy_store.describe().kinds)


def test_all_entities_and_the_public_entry_points(store: Path) -> None:
    _, faults = read_manifest(store)
    window = faults[0].window
    files = _files(store)
    eager = read_tables(**files).window(window)
    opened = rcakit.load(store, lazy=True)
    assert isinstance(opened, TelemetryStore)
    _assert_equal(opened.incident(window), eager)
    _assert_equal(rcakit.load(store, lazy=True, window=window), eager)
    _assert_equal(read_tables(**files, lazy=True, window=window), eager)
    one_kind = rcakit.load(f"{store}/spans/**/*.parquet", lazy=True, kind="spans", window=window,
                           entities=["svc-00"])
    _assert_equal(one_kind, restrict(read_tables(spans=files["spans"]), window, ["svc-00"]))
    # eager reads take the same window and entities
    _assert_equal(read_tables(**files, window=window, entities=["svc-02"]),
                  read_tables(**files).window(window).select(entities=["svc-02"]))


def test_describe_counts_rows_from_the_footers(store: Path) -> None:
    doc, _ = read_manifest(store)
    description = TelemetryStore.open(store).describe()
    by_kind = {k.kind: k for k in description.kinds}
    assert by_kind["spans"].rows == doc["spans"] == by_kind["logs"].rows
    assert by_kind["spans"].partitions == 4 and by_kind["spans"].missing_partitions == []
    assert by_kind["spans"].time_range is not None
    assert by_kind["spans"].time_range.duration >= timedelta(hours=3.4)
    assert description.to_frame().height == 3
    assert "250,000 rows" in repr(description) and "spans" in description._repr_html_()


def test_an_empty_window_gives_empty_tables(store: Path) -> None:
    tel = TelemetryStore.open(store).incident(("2020-01-01", "2020-01-02"))
    assert tel.spans.height == tel.logs.height == tel.metrics.height == 0


def test_a_missing_partition_is_named(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    hour_dirs = sorted((copy / "logs").glob("date=*/hour=*"))
    gone = hour_dirs[1]
    shutil.rmtree(gone)
    day = gone.parent.name
    lazy = TelemetryStore.open(copy)
    start = f"{day.split('=')[1]}T{gone.name.split('=')[1]}:10:00Z"
    inside = (start, start.replace(":10:00", ":20:00"))
    with pytest.raises(DataError, match=rf"partition {day}/{gone.name} is missing") as info:
        lazy.incident(inside)
    assert "logs" in str(info.value) and "missing_partitions='ignore'" in str(info.value)
    # a window that does not need it still reads, and the user can read on without it
    last = hour_dirs[-1]
    start_last = f"{last.parent.name.split('=')[1]}T{last.name.split('=')[1]}:05:00Z"
    assert TelemetryStore.open(copy).incident((start_last, start_last.replace(":05:00", ":15:00"))).logs.height
    tel = TelemetryStore.open(copy, missing_partitions="ignore").incident(inside)
    assert tel.logs.height == 0 and tel.spans.height > 0
    assert TelemetryStore.open(copy).describe().kinds[1].missing_partitions == [f"{day}/{gone.name}"]


def test_a_file_whose_column_type_differs_is_named(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    victim = sorted((copy / "metrics").rglob("*.parquet"))[2]
    frame = pl.read_parquet(victim)
    frame.with_columns(pl.col("value").cast(pl.String)).write_parquet(victim)
    _, faults = read_manifest(store)
    with pytest.raises(SchemaError, match="disagree on column 'value'") as info:
        TelemetryStore.open(copy).incident(faults[-1].window)
    assert str(victim) in str(info.value) and info.value.column == "value"


def test_files_with_an_extra_column_combine_as_the_eager_reader_does(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    victim = sorted((copy / "spans").rglob("*.parquet"))[1]
    pl.read_parquet(victim).with_columns(pl.lit("eu-west").alias("region")).write_parquet(victim)
    window = (pl.read_parquet(victim).get_column("start").min(),
              pl.read_parquet(victim).get_column("start").min() + timedelta(hours=1, minutes=30))
    tel = TelemetryStore.open(copy).incident(window)
    eager = read_tables(**_files(copy)).window(window)
    _assert_equal(tel, eager)
    assert "region" in tel.spans.columns and tel.spans.get_column("region").null_count() > 0


def _csv_table(tmp_path: Path) -> tuple[list[Path], dict[str, str]]:
    """Metrics as two CSV files (one gzipped) with their own column names and epoch-millisecond times,
    an entity with ':' in its name (the model spells it with '_')."""
    rows = 3000
    frame = pl.DataFrame({
        "ts": [1_767_600_000_000 + i * 1000 for i in range(rows)],
        "host": [["db:1", "web", "cache"][i % 3] for i in range(rows)],
        "kpi": ["cpu"] * rows,
        "val": [float(i % 17) for i in range(rows)],
    })
    first, second = tmp_path / "m-1.csv", tmp_path / "m-2.csv.gz"
    frame.head(1500).write_csv(first)
    second.write_bytes(gzip.compress(frame.tail(1500).write_csv().encode()))
    return [first, second], {"time": "ts", "entity": "host", "metric": "kpi", "value": "val"}


def test_csv_files_with_a_column_mapping(tmp_path: Path) -> None:
    files, columns = _csv_table(tmp_path)
    window = ("2026-01-05T08:10:00Z", "2026-01-05T08:30:00Z")
    tel = read_tables(metrics=files, columns={"metrics": columns}, lazy=True, window=window, entities=["db_1", "web"])
    eager = read_tables(metrics=files, columns={"metrics": columns}).window(window).select(entities=["db_1", "web"])
    _assert_equal(tel, eager)
    assert tel.metrics.height == 800 and set(tel.entities()) == {"db_1", "web"}
    assert any("epoch ms" in c.action for c in tel.report)


def test_csv_with_iso_times(tmp_path: Path) -> None:
    frame = pl.DataFrame({
        "time": [f"2026-01-05T08:{m:02d}:{s:02d}Z" for m in range(60) for s in range(0, 60, 15)],
        "entity": "api", "level": "INFO", "message": [f"request {i} ok" for i in range(240)],
    })
    path = tmp_path / "logs.csv"
    frame.write_csv(path)
    window = ("2026-01-05T08:05:00Z", "2026-01-05T08:06:00Z")
    tel = rcakit.load(path, lazy=True, kind="logs", window=window)
    _assert_equal(tel, rcakit.load(path, kind="logs").window(window))
    assert tel.logs.height == 4


def test_bad_paths_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no file matches this pattern") as info:
        TelemetryStore(spans=str(tmp_path / "nothing" / "*.parquet"))
    assert "nothing" in str(info.value)
    with pytest.raises(DataError, match="not a store folder"):
        TelemetryStore.open(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no spans, logs or metrics"):
        TelemetryStore.open(tmp_path / "empty")
    with pytest.raises(TypeError, match="layout"):
        TelemetryStore(metrics=str(tmp_path), options={"metrics": {"layout": "wide"}})


def test_a_csv_store_with_text_times_in_time_partitions(store: Path, tmp_path: Path) -> None:
    """The same logs as gzipped CSV partitions with RFC 3339 times: text times are parsed in the scan."""
    for source in sorted((store / "logs").rglob("*.parquet")):
        target = tmp_path / "logs" / source.relative_to(store / "logs").with_suffix(".csv.gz")
        target.parent.mkdir(parents=True, exist_ok=True)
        text = pl.read_parquet(source).write_csv(datetime_format="%Y-%m-%dT%H:%M:%S%.9fZ")
        target.write_bytes(gzip.compress(text.encode(), compresslevel=1))
    _, faults = read_manifest(store)
    window = faults[2].window
    lazy = TelemetryStore(logs=tmp_path / "logs")
    tel = lazy.incident(window, entities=[faults[2].service])
    files = sorted(str(p) for p in (tmp_path / "logs").rglob("*.csv.gz"))
    _assert_equal(tel, read_tables(logs=files).window(window).select(entities=[faults[2].service]))
    assert tel.logs.height > 500 and lazy.last_read.files["logs"] <= 2
    # and equal to the Parquet store's rows
    assert tel.logs.equals(TelemetryStore.open(store).incident(window, entities=[faults[2].service]).logs)
