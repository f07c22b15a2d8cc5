"""Values: NaN, infinity, text and booleans among numbers, empty names, frames handed in from pandas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rcakit import Telemetry
from rcakit.telemetry.loaders import read_csv
from tests.badinput.cases import Case
from tests.badinput.cases._helpers import COERCED, REJECTED, all_of, coerced, file_case, heights, where

VALUES = "values"


def _nulls(n: int) -> Any:
    def check(tel: Any) -> None:
        assert tel.metrics.get_column("value").null_count() == n
    return check


def _pandas_mixed(_folder: Path) -> Any:
    frame = pd.DataFrame({"time": pd.date_range("2023-01-30", periods=4, freq="min", tz="UTC"),
                          "entity": ["cart"] * 4, "metric": ["cpu"] * 4, "value": [1.0, "2.5", "n/a", None]})
    return Telemetry(frame)


def _pandas_inf(_folder: Path) -> Any:
    frame = pd.DataFrame({"time": pd.date_range("2023-01-30", periods=3, freq="min", tz="UTC"),
                          "entity": ["cart"] * 3, "metric": ["cpu"] * 3, "value": [1.0, np.inf, np.nan]})
    return Telemetry(frame)


def _pandas_object_time(_folder: Path) -> Any:
    frame = pd.DataFrame({"time": ["2023-01-30T12:00:00Z", None], "entity": ["cart", "cart"], "metric": ["cpu"] * 2,
                          "value": [1.0, 2.0]})
    return Telemetry(frame)


CASES: list[Case] = [
    file_case("text-among-numbers", VALUES, "non_numeric.csv", read_csv, COERCED,
              "'n/a' and '12,5' set to null, reported: 'set non-numbers to null', 2 rows",
              all_of(heights(metrics=6), coerced("non-numbers", rows=2, column="value"), _nulls(2))),
    file_case("nan-and-inf", VALUES, "nan_inf.csv", read_csv, COERCED,
              "'set NaN to null' 1 row, 'set infinite values to null' 2 rows",
              all_of(heights(metrics=7), coerced("NaN", rows=1), coerced("infinite", rows=2), _nulls(3))),
    file_case("all-text-values", VALUES, "all_text_values.csv", read_csv, COERCED,
              "a value column of words: every row kept, all null, reported with the first word",
              all_of(heights(metrics=2), coerced("non-numbers", rows=2), _nulls(2))),
    file_case("overflowing-number", VALUES, "overflow.csv", read_csv, COERCED,
              "1e400 overflows to infinity: set to null, reported", all_of(heights(metrics=2), coerced("infinite", 1))),
    file_case("booleans-as-values", VALUES, "booleans.csv", read_csv, COERCED,
              "true/false read as 1/0, reported", all_of(heights(metrics=2), coerced("true/false", rows=2),
                                                         lambda t: t.metrics.get_column("value").to_list() == [1.0, 0.0])),
    file_case("empty-entity", VALUES, "empty_entity.csv", read_csv, REJECTED,
              "DataError 'an entity name is empty', column `entity`, row 4", where("entity", 4)),
    file_case("empty-metric-name", VALUES, "empty_metric.csv", read_csv, REJECTED,
              "DataError 'a metric name is empty', column `metric`, row 4", where("metric", 4)),
    file_case("colon-in-entity", VALUES, "colon_entity.csv", read_csv, COERCED,
              "':' in an entity name (it separates entity:metric) replaced by '_', reported",
              all_of(coerced("':'", rows=1), lambda t: t.nodes() == ["cart_v2:cpu"])),
    file_case("wide-text-value", VALUES, "wide_non_numeric.csv", read_csv, COERCED,
              "wide layout: 'set non-numbers to null' in column `cart:cpu`, 1 row",
              all_of(heights(metrics=4), coerced("non-numbers", rows=1, column="cart:cpu")), layout="wide"),
    file_case("wide-nan-inf", VALUES, "wide_nan_inf.csv", read_csv, COERCED,
              "wide layout: NaN and inf set to null, reported", all_of(heights(metrics=4), coerced("NaN"),
                                                                       coerced("infinite")), layout="wide"),
    Case("pandas-mixed-object-column", VALUES, COERCED, _pandas_mixed,
         "a pandas object column with floats, numeric text, 'n/a' and None: 'n/a' set to null, reported",
         all_of(heights(metrics=4), coerced("non-numbers", rows=1),
                lambda t: t.metrics.get_column("value").to_list() == [1.0, 2.5, None, None])),
    Case("pandas-inf-nan", VALUES, COERCED, _pandas_inf, "numpy inf and NaN from pandas: null, reported",
         all_of(heights(metrics=3), coerced("infinite", rows=1))),
    Case("pandas-missing-time", VALUES, REJECTED, _pandas_object_time,
         "a missing time in a pandas frame: DataError column `time`, row 1", where("time", 1)),
]
