"""What a raw metric name means: latency, request rate, error rate, utilization, queue length, ...

Names in the wild are inconsistent (``kpi_container_cpu_usage_seconds_total``, ``PodServerLatencyP90(s)``,
``requests_sum``, ``publish_rate_causality_1``); causal rules are not. :func:`metric_meaning` maps a
name (and, when given, its description and the kind of its component) to a :class:`Meaning`, the
vocabulary the systems-knowledge rules are written in.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["Meaning", "is_accumulator", "metric_meaning", "tokens"]


class Meaning(StrEnum):
    LATENCY = "latency"
    THROUGHPUT = "throughput"          # requests served / arriving per second: the load a component sees
    LOAD = "load"                      # other workload drivers: connected clients, consumers, users, sessions
    ENQUEUE_RATE = "enqueue_rate"
    DEQUEUE_RATE = "dequeue_rate"
    ERROR_RATE = "error_rate"
    AVAILABILITY = "availability"
    UTILIZATION = "utilization"        # CPU / GPU / resource busy share
    SATURATION = "saturation"          # queue length, backlog, pending messages, pool in use
    MEMORY = "memory"
    NETWORK = "network"
    DISK_IO = "disk_io"
    BATCH_SIZE = "batch_size"
    CONFIG = "config"                  # configured limits: max batch size, pool size, replicas
    POWER = "power"                    # capacity of a resource: clock, power, throttling
    UNKNOWN = "unknown"


_WORD = re.compile(r"[A-Za-z][a-z]*|[A-Z]+(?![a-z])|\d+")


def tokens(name: str) -> list[str]:
    """Lower-case words of a metric name, splitting snake_case, kebab-case, dots and CamelCase."""
    return [t.lower() for t in _WORD.findall(name)]


# Order matters: the first matching pattern decides (config before batch size, errors before rate ...).
_PATTERNS: list[tuple[Meaning, re.Pattern[str]]] = [
    (Meaning.CONFIG, re.compile(r"\b(max|limit|capacity_conf|configured|replicas?|pool_size|quota)\b.*\b(batch|size|"
                                r"limit|pool|replicas?|workers?|threads?)\b|\bmax_batch")),
    (Meaning.BATCH_SIZE, re.compile(r"\bbatch\b")),
    (Meaning.AVAILABILITY, re.compile(r"\b(availability|uptime|success_ratio|success_rate|sla)\b")),
    (Meaning.ERROR_RATE, re.compile(r"\b(errors?|err|failures?|failed|fault|exceptions?|5xx|4xx|timeouts?|rejected|"
                                    r"drops?|dropped)\b")),
    (Meaning.ENQUEUE_RATE, re.compile(r"\b(enqueue|enqueued|enqueueing|enqueuing|arrival|arrivals|publish|published|"
                                      r"produce|produced|incoming|ingest|ingested)\b")),
    (Meaning.DEQUEUE_RATE, re.compile(r"\b(dequeue|dequeued|dequeueing|dequeuing|consume|consumed|consumption|"
                                      r"acked|delivered|delivery)\b")),
    # a worker, thread or connection pool in use holds the requests in progress: a backlog, not a busy share
    (Meaning.SATURATION, re.compile(r"\b(queue|queued|backlog|pending|messages?|msgs?|waiting|inflight|in_flight|"
                                    r"saturation|lag|pools?)\b")),
    (Meaning.LATENCY, re.compile(r"\b(latency|latencies|duration|response_time|rt|elapsed|delay|wait|waited|"
                                 r"time_taken|p\d\d|seconds_bucket)\b|latency|\b(time taken|time waited|response time|processing time)\b")),
    (Meaning.POWER, re.compile(r"\b(power|watts?|clock|freq|frequency|throttl\w*|capacity)\b")),
    (Meaning.MEMORY, re.compile(r"\b(mem|memory|ram|heap|rss|swap|gc|working_set|cache_bytes)\b")),
    (Meaning.NETWORK, re.compile(r"\b(net|network|rx|tx|bandwidth|packets?|sent|received|receive|transmit|bytes_in|"
                                 r"bytes_out|tcp|socket|connections_bytes)\b")),
    (Meaning.DISK_IO, re.compile(r"\b(disk|io|iops|fs|filesystem|read|write|reads|writes)\b")),
    (Meaning.UTILIZATION, re.compile(r"\b(cpu|gpu|utilization|utilisation|util|usage|busy|load_avg|loadavg|"
                                     r"occupancy)\b")),
    (Meaning.LOAD, re.compile(r"\b(consumers?|clients?|users?|sessions?|connections?|conns?|subscribers?|"
                              r"producers?|workers?_active|active)\b")),
    (Meaning.THROUGHPUT, re.compile(r"\b(throughput|requests?|reqs?|rps|qps|tps|calls?|hits|invocations?|count|"
                                    r"rate|ops|traffic|load|workload|transactions?)\b")),
]


def metric_meaning(name: str, description: str = "", *, component_kind: str | None = None) -> Meaning:
    """The meaning of a metric from its name, falling back to its description.

    ``kpi_container_cpu_usage_seconds_total`` -> utilization, ``PodServerLatencyP90(s)`` -> latency,
    ``requests_sum`` -> throughput (request rate), ``availability_average`` -> availability. The
    description decides only when the name says nothing recognisable. ``component_kind`` turns a
    bare ``utilization`` or ``usage`` of a resource into utilization and lets a resource's ``rate``
    stay throughput.
    """
    text = " ".join(tokens(name))
    # "_".join keeps multi-word patterns such as response_time and max_batch matchable.
    joined = "_".join(tokens(name))
    for meaning, pattern in _PATTERNS:
        if pattern.search(text) or pattern.search(joined):
            return _refine(meaning, text)
    if description:
        words = " ".join(tokens(description))
        joined_words = "_".join(tokens(description))
        for meaning, pattern in _PATTERNS:
            if pattern.search(words) or pattern.search(joined_words):
                return _refine(meaning, words)
    if component_kind == "resource":
        return Meaning.UTILIZATION
    return Meaning.UNKNOWN


def _refine(meaning: Meaning, text: str) -> Meaning:
    # "cpu seconds" / "gpu time" are usage, not latency; "queue time" / "wait time" is latency.
    if meaning is Meaning.LATENCY and re.search(r"\b(cpu|gpu)\b", text):
        return Meaning.UTILIZATION
    # a pool's size, maximum or limit is configuration; the pool in use is a backlog
    if meaning is Meaning.SATURATION and re.search(r"\bpools?\b", text) and re.search(
            r"\b(size|max|maximum|limit|capacity|configured)\b", text):
        return Meaning.CONFIG
    # "messages published per second" is the arrival rate; "messages" alone is a backlog.
    if meaning is Meaning.SATURATION and re.search(r"\b(rate|per|throughput)\b", text):
        if re.search(r"\b(publish|published|enqueue|incoming|arrival)\b", text):
            return Meaning.ENQUEUE_RATE
        if re.search(r"\b(consume|consumed|dequeue|delivered)\b", text):
            return Meaning.DEQUEUE_RATE
        return Meaning.THROUGHPUT
    return meaning


# Saturation that is proportional (load x latency), not integrated: a pool in use, requests in flight.
_PROPORTIONAL_SATURATION = frozenset({"pool", "pools", "inflight", "flight", "saturation"})


def is_accumulator(metric: str) -> bool:
    """Whether ``metric`` integrates what arrives minus what is served (a queue's length, pending messages,
    consumer lag): saturation that is not a pool in use or a count of requests in flight, which follow load
    times latency instead of summing a difference over time."""
    return metric_meaning(metric) is Meaning.SATURATION and not _PROPORTIONAL_SATURATION & set(tokens(metric))
