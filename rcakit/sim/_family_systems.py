"""The four systems of :mod:`rcakit.sim.families`: their entities, calls and the metrics each entity reports."""

from __future__ import annotations

from collections.abc import Sequence

from rcakit.errors import DataError
from rcakit.sim._family_engine import Call, Service, Topo

__all__ = ["FAMILIES", "check_choice", "family_topology", "metric_names"]

FAMILIES = ("webshop", "pipeline", "shared_db", "replicated")
SERVICE_METRICS = ("latency", "request_rate", "error_rate", "cpu", "memory", "pool_utilization", "net_rtt",
                   "net_retransmits")
BROKER_METRICS = ("latency", "enqueue_rate", "dequeue_rate", "queue_length", "error_rate", "cpu", "memory",
                  "disk_io", "net_rtt", "net_retransmits")


def _one(*callees: str | Call) -> tuple[tuple[Call, ...], ...]:
    """Stages of one call each, in sequence."""
    return tuple((c if isinstance(c, Call) else Call(c),) for c in callees)


def _db(name: str, own_ms: float, cpu: float, disk: float = 0.0, pool: int = 64) -> Service:
    return Service(name, "datastore", own_ms=own_ms, cpu_cost=cpu, disk_cost=disk, mem_mb=2048.0,
                   mem_limit_mb=4096.0, op="query", pool=pool)


def _webshop(size: str) -> list[Service]:
    fan = [Call("catalog"), Call("recommendation", fallback=True), Call("cart")]
    extra: list[Service] = []
    if size == "M":
        fan += [Call("reviews", fallback=True), Call("ads", fallback=True)]
        extra = [Service("reviews", own_ms=6, stages=_one("reviews-db")), _db("reviews-db", 2, 0.004, 0.003),
                 Service("ads", own_ms=4, stages=_one("ad-api")), Service("ad-api", "external", own_ms=35)]
    return [
        Service("frontend", own_ms=6, op="GET /product", stages=((Call("auth"),), tuple(fan), (Call("checkout", prob=0.3),))),
        Service("auth", own_ms=3, stages=_one("session-cache")),
        _db("session-cache", 0.8, 0.002),
        Service("catalog", own_ms=5, cpu_cost=0.003, stages=_one(Call("catalog-db", repeat=2))),
        _db("catalog-db", 3, 0.002, 0.0015),
        Service("recommendation", own_ms=12, cpu_cost=0.008, stages=_one("catalog")),
        Service("cart", own_ms=4, stages=_one("cart-redis")),
        _db("cart-redis", 0.6, 0.002),
        Service("checkout", own_ms=8, cpu_cost=0.01,
                stages=((Call("orders-db"),), (Call("payment-api"),), (Call("shipping"), Call("currency")))),
        _db("orders-db", 4, 0.01, 0.015),
        Service("payment-api", "external", own_ms=120),
        Service("shipping", own_ms=10, cpu_cost=0.01),
        Service("currency", own_ms=2, cpu_cost=0.01),
        *extra,
    ]


def _pipeline(size: str) -> list[Service]:
    first = (Call("geo-api"), Call("customer-db"), *((Call("fraud-check"),) if size == "M" else ()))
    extra = [Service("fraud-check", own_ms=12, stages=_one("rules-cache")), _db("rules-cache", 0.7, 0.002),
             _db("audit-db", 3, 0.003, 0.004)] if size == "M" else []
    return [
        Service("ingest-api", own_ms=4, op="POST /orders", stages=_one("schema-registry", "orders-queue")),
        Service("schema-registry", own_ms=2, cpu_cost=0.003),
        Service("orders-queue", "broker", own_ms=1.5, cpu_cost=0.003, disk_cost=0.004, consumer="enricher",
                mem_mb=1024.0, mem_limit_mb=2048.0, op="publish"),
        Service("enricher", own_ms=10, cpu_cost=0.008, workers=4, op="enrich order",
                stages=(first, (Call("events-queue"),))),
        Service("geo-api", "external", own_ms=40),
        _db("customer-db", 4, 0.005, 0.004),
        Service("events-queue", "broker", own_ms=1.5, cpu_cost=0.003, disk_cost=0.004, consumer="writer",
                mem_mb=1024.0, mem_limit_mb=2048.0, op="publish"),
        Service("writer", own_ms=6, workers=3, op="write order",
                stages=_one("warehouse-db", *(("audit-db",) if size == "M" else ()), Call("notify-api", fallback=True))),
        _db("warehouse-db", 8, 0.006, 0.006),
        Service("notify-api", "external", own_ms=25),
        *extra,
    ]


def _shared_db(size: str) -> list[Service]:
    fan = [Call("orders"), Call("inventory"), Call("search")]
    extra: list[Service] = []
    if size == "M":
        fan.append(Call("recommend", fallback=True))
        extra = [Service("recommend", own_ms=9, stages=_one("main-db")),
                 Service("analytics", own_ms=25, load=3.0, op="aggregate", stages=_one(Call("main-db", repeat=2)))]
    return [
        Service("gateway", own_ms=3, op="GET /api", stages=((Call("auth"),), (Call("users"),), tuple(fan),
                                                            (Call("billing", prob=0.4),))),
        Service("auth", own_ms=2, stages=_one("main-db")),
        Service("users", own_ms=4, stages=_one("main-db")),
        Service("orders", own_ms=6, stages=_one(Call("main-db", repeat=2))),
        Service("inventory", own_ms=5, stages=_one("main-db")),
        Service("search", own_ms=8, stages=_one("search-index")),
        _db("search-index", 6, 0.006, 0.004),
        Service("billing", own_ms=7, stages=_one("main-db", "tax-api", Call("notifications", fallback=True))),
        Service("notifications", own_ms=3),
        Service("tax-api", "external", own_ms=60),
        Service("reports", own_ms=20, load=4.0, op="run report", stages=_one(Call("main-db", repeat=3))),
        _db("main-db", 3, 0.0013, 0.0011, pool=200),
        *extra,
    ]


def _replicated(size: str) -> list[Service]:
    replicas = tuple(f"search-{k}" for k in range(5 if size == "M" else 3))
    second = (Call("search-lb"), Call("profile"), *((Call("personalize", fallback=True),) if size == "M" else ()))
    extra = [Service("personalize", own_ms=7, stages=_one("profile-db"))] if size == "M" else []
    return [
        Service("gateway", own_ms=3, op="GET /search", stages=((Call("auth"),), second, (Call("ads-api", fallback=True),))),
        Service("auth", own_ms=2, stages=_one("token-cache")),
        _db("token-cache", 0.6, 0.002),
        Service("search-lb", "lb", backends=replicas),
        *(Service(r, own_ms=15, cpu_cost=0.02 * len(replicas) / 3, stages=_one("index-store")) for r in replicas),
        _db("index-store", 5, 0.003, 0.003),
        Service("profile", own_ms=5, stages=_one("profile-db")),
        _db("profile-db", 3, 0.004, 0.004),
        Service("ads-api", "external", own_ms=30),
        *extra,
    ]


_BUILDERS = {"webshop": (_webshop, "frontend"), "pipeline": (_pipeline, "ingest-api"),
             "shared_db": (_shared_db, "gateway"), "replicated": (_replicated, "gateway")}


def family_topology(family: str, size: str = "S") -> Topo:
    """The entities and calls of a family (``size`` "S" or "M")."""
    check_choice(family, FAMILIES, "family")
    check_choice(size, ("S", "M"), "size")
    build, entry = _BUILDERS[family]
    return Topo(family, entry, {s.name: s for s in build(size)})


def check_choice(value: object, choices: Sequence[str], what: str) -> None:
    if value not in choices:
        raise DataError(f"unknown {what} {value!r}", hint=f"Choose one of {', '.join(map(repr, choices))}")


def metric_names(svc: Service) -> tuple[str, ...]:
    if not svc.instrumented:
        return ("latency", "errors")
    if svc.kind == "broker":
        return BROKER_METRICS
    return SERVICE_METRICS + (("disk_io",) if svc.disk_cost else ())
