"""The root-cause set score of the localize bench (rcakit.bench._localize_storm)."""

from __future__ import annotations

import pytest

from rcakit.bench._localize_storm import _entities as entities
from rcakit.bench._localize_storm import set_f1


@pytest.mark.parametrize(("found", "truth", "f1"), [
    (["a"], ["a"], 1.0),
    (["a", "b"], ["a"], 2 / 3),           # precision 1/2, recall 1
    (["a"], ["a", "b"], 2 / 3),           # precision 1, recall 1/2
    (["a", "a", "b"], ("a", "b"), 1.0),   # a set: repeats do not count twice
    (["c"], ["a"], 0.0),
    ([], ["a"], 0.0),
    (["a"], [], 0.0),
])
def test_set_f1(found: list[str], truth: list[str], f1: float) -> None:
    assert set_f1(found, truth) == pytest.approx(f1)


def test_entities_of_nodes_in_first_seen_order() -> None:
    assert entities(["db:cpu", "api:latency", "db:memory", "cache"]) == ["db", "api", "cache"]
