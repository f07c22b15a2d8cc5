"""The summary line of the detect bench (rcakit.bench.detect)."""

from __future__ import annotations

from rcakit.bench.detect import _summary as summary


def test_summary_counts_top_k_over_every_incident_and_the_flagged_root_causes() -> None:
    rows = [{"rank": 1, "anomalous?": "yes"}, {"rank": 3, "anomalous?": "yes"}, {"rank": 7, "anomalous?": "no"},
            {"rank": "-", "anomalous?": "no"}]
    assert summary(rows) == ("4 incidents: root cause anomalous in 2/4; rank top-1 25%, top-3 50%, top-5 50%; "
                             "median rank 3")


def test_summary_of_another_rank_and_of_nothing() -> None:
    rows = [{"trace rank": 2}, {"trace rank": "-"}]
    assert summary(rows, key="trace rank") == ("2 incidents: trace rank top-1 0%, top-3 50%, top-5 50%; "
                                               "median trace rank 2")
    assert summary([]) == "no incidents"
    assert summary([{"rank": "-"}], key="rank").endswith("median rank -")
