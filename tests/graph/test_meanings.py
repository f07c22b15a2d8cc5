"""What a metric name means, where attribution depends on it: which saturation metrics accumulate."""

from __future__ import annotations

import pytest

from rcakit.graph.meanings import Meaning, is_accumulator, metric_meaning


@pytest.mark.parametrize("metric", ["queue_length", "QueueDepth", "pending_messages", "consumer_lag", "backlog"])
def test_a_queue_or_backlog_accumulates(metric: str) -> None:
    assert is_accumulator(metric)


@pytest.mark.parametrize("metric", ["pool_in_use", "connection_pools_active", "in_flight", "inflight_requests",
                                    "saturation"])
def test_a_pool_or_requests_in_flight_is_saturation_but_does_not_accumulate(metric: str) -> None:
    assert metric_meaning(metric) is Meaning.SATURATION
    assert not is_accumulator(metric)


@pytest.mark.parametrize("metric", ["latency", "cpu_utilization", "request_rate", "max_pool_size"])
def test_other_meanings_do_not_accumulate(metric: str) -> None:
    assert not is_accumulator(metric)
