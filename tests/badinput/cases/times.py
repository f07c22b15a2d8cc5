"""Time: duplicates, order, time zones, epoch units guessed or given wrongly, dates before 1970."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from rcakit.telemetry.loaders import read_csv
from tests.badinput.cases import Case
from tests.badinput.cases._helpers import CLEAN, COERCED, REJECTED, all_of, coerced, file_case, heights, where

TIME = "time"
NOON = [datetime(2023, 1, 30, 12, 0, tzinfo=UTC), datetime(2023, 1, 30, 12, 1, tzinfo=UTC)]


def _times(expected: list[datetime], tolerance: timedelta = timedelta(0)) -> Any:
    def check(tel: Any) -> None:
        got = tel.metrics.get_column("time").to_list()
        assert len(got) == len(expected) and all(abs(g - e) <= tolerance for g, e in zip(got, expected)), \
            f"times {got}, expected {expected}"
    return check


CASES: list[Case] = [
    file_case("duplicate-timestamps", TIME, "duplicate_timestamps.csv", read_csv, COERCED,
              "kept, reported: 'kept duplicate (time, entity, metric) rows', 2 rows",
              all_of(heights(metrics=5), coerced("duplicate", rows=2))),
    file_case("duplicate-log-times", TIME, "duplicate_log_times.csv", read_csv, CLEAN,
              "log lines at the same instant are normal: all 3 kept, in file order", heights(logs=3), kind="logs",
              separator=","),
    file_case("out-of-order", TIME, "unordered.csv", read_csv, COERCED, "sorted, reported 'sorted rows by time', 4 rows",
              all_of(heights(metrics=4), coerced("sorted", rows=4),
                     lambda t: t.metrics.get_column("value").to_list() == [0.5, 1.5, 2.5, 3.5])),
    file_case("naive-times", TIME, "naive_times.csv", read_csv, COERCED, "read as UTC, reported ('naive'), 2 rows",
              all_of(coerced("naive", rows=2), _times(NOON))),
    file_case("mixed-time-zones", TIME, "mixed_timezones.csv", read_csv, COERCED,
              "+02:00, Z, -05:00 and naive: all four instants right in UTC; the naive row reported",
              all_of(coerced("naive", rows=1), _times([datetime(2023, 1, 30, 12, m, tzinfo=UTC) for m in range(4)]))),
    file_case("zone-name", TIME, "zone_name.csv", read_csv, REJECTED,
              "'... Europe/Berlin': DataError naming the value, column `time`, row 0", where("time", 0, "Europe/Berlin")),
    *[file_case(f"epoch-{unit}", TIME, f"epoch_{unit}.csv", read_csv, COERCED,
                f"epoch {unit} recognised from the magnitude, reported 'read numbers as epoch {unit}'",
                all_of(coerced(f"epoch {unit}"), _times(NOON))) for unit in ("s", "ms", "us", "ns")],
    file_case("epoch-float-seconds", TIME, "epoch_float_s.csv", read_csv, COERCED,
              "fractional epoch seconds keep their fraction (to the microsecond: float64 holds 0.25 s of 1.7e9 s to 256 ns)", all_of(coerced("epoch s"), _times(
                  [datetime(2023, 1, 30, 12, 0, 0, 500000, tzinfo=UTC),
                   datetime(2023, 1, 30, 12, 1, 0, 250000, tzinfo=UTC)], timedelta(microseconds=1)))),
    file_case("epoch-unit-given", TIME, "epoch_ms.csv", read_csv, CLEAN, "`time_unit='ms'` overrides the guess",
              _times(NOON), time_unit="ms", separator=","),
    file_case("epoch-ms-given-as-s", TIME, "epoch_ms.csv", read_csv, COERCED,
              "ms read with `time_unit='s'` by mistake: kept, reported 'implausible times ... wrong epoch unit'",
              all_of(heights(metrics=2), coerced("implausible", rows=2)), time_unit="s"),
    file_case("epoch-s-given-as-ms", TIME, "epoch_s.csv", read_csv, COERCED,
              "s read with `time_unit='ms'` by mistake (1970-01-20): kept, reported as implausible",
              all_of(heights(metrics=2), coerced("implausible", rows=2)), time_unit="ms"),
    file_case("epoch-mixed-units", TIME, "epoch_mixed_units.csv", read_csv, COERCED,
              "s and ms in one column: the majority unit is used and the odd row reported as implausible",
              all_of(heights(metrics=3), coerced("epoch ms"), coerced("implausible", rows=1))),
    file_case("seconds-since-start", TIME, "relative_seconds.csv", read_csv, COERCED,
              "0, 60, 120 (seconds since the run began, guessed as epoch s): kept, reported as implausible (1970)",
              all_of(heights(metrics=3), coerced("epoch s"), coerced("implausible", rows=3))),
    file_case("before-1970", TIME, "before_1970.csv", read_csv, COERCED,
              "1969 dates kept exactly, reported as implausible (before 1980)",
              all_of(coerced("implausible", rows=2), _times([datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
                                                             datetime(1969, 12, 31, 23, 59, 30, tzinfo=UTC)]))),
    file_case("negative-epoch", TIME, "negative_epoch.csv", read_csv, COERCED,
              "negative epoch seconds are 1969: kept, reported",
              all_of(coerced("implausible", rows=2), _times([datetime(1969, 12, 31, 23, 59, tzinfo=UTC),
                                                             datetime(1969, 12, 31, 23, 59, 30, tzinfo=UTC)]))),
    file_case("go-zero-time", TIME, "zero_time.csv", read_csv, COERCED,
              "Go's zero time in a Nezha-like log: kept, reported ('before 1980'), 1 row",
              all_of(heights(logs=3), coerced("before 1980", rows=1)), kind="logs"),
    file_case("unreadable-time", TIME, "bad_time.csv", read_csv, REJECTED,
              "'yesterday noon': DataError column `time`, row 4", where("time", 4, "yesterday")),
    file_case("missing-time", TIME, "missing_time.csv", read_csv, REJECTED,
              "an empty time: DataError column `time`, row 1", where("time", 1)),
    file_case("mixed-time-formats", TIME, "mixed_time_formats.csv", read_csv, REJECTED,
              "ISO and dd/mm/yyyy in one column: DataError naming '30/01/2023 12:01', row 1",
              where("time", 1, "30/01/2023")),
    file_case("time-format-mismatch", TIME, "naive_times.csv", read_csv, REJECTED,
              "a `time_format=` that does not match: DataError naming the value, column `time`, row 0",
              where("time", 0), time_format="%d/%m/%Y %H:%M"),
]
