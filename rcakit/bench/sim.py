"""``python -m rcakit.bench sim``: how fast the simulator runs one hour of the L topology at 100 requests/s.

Rows: the full simulation (metrics, logs, traces of 1 request in 20), metrics only, and, as the
baseline measured in the same process, a straightforward simpy model of the same system (a process
per request, a process per worker's batcher, a store of free GPUs) run for a few simulated minutes
and extrapolated linearly to the hour. The mean end-to-end latency of both is printed as a check
that they simulate the same system.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import TYPE_CHECKING, TypedDict, cast

import numpy as np

from rcakit.bench._common import markdown_table, median_time, peak_rss_mb

if TYPE_CHECKING:
    import simpy
    from simpy.events import ProcessGenerator

    from rcakit.sim import Topology
    from rcakit.telemetry import Telemetry

__all__ = ["main", "simpy_reference"]

#: One row of the table.
_SimRow = TypedDict("_SimRow", {"variant": str, "simulated": str, "requests": str, "median s": float,
                                "simulated requests/s": float, "mean latency ms": float, "rows": str})


class _SimOptions(TypedDict, total=False):
    """The keyword options of :func:`rcakit.sim.simulate` a variant sets."""

    logs: bool
    trace_sample: int | None


def simpy_reference(topology: Topology, *, duration: float, rate: float, seed: int) -> dict[str, float]:
    """The same model written plainly with simpy (no faults, no telemetry): requests and mean latency."""
    import simpy

    rng = np.random.Generator(np.random.PCG64(seed))
    env = simpy.Environment()
    delays = topology.link_delays
    queues = [simpy.Store(env) for _ in range(topology.workers)]
    free_gpus: list[simpy.Store] = []
    for w in range(topology.workers):
        store = simpy.Store(env)
        for g in topology.gpus_of(w):
            store.put(g)
        free_gpus.append(store)
    latencies: list[float] = []

    def jitter() -> float:
        return float(rng.gamma(4.0, 0.25))

    def request(n: int) -> ProcessGenerator:
        sent = env.now
        yield env.timeout(delays["Client-Router"] * jitter())
        yield env.timeout(topology.router_time * jitter())
        yield env.timeout(delays["Router-Queue"] * jitter())
        done = env.event()
        yield queues[n % topology.workers].put((env.now, done))
        yield done
        yield env.timeout(delays["ModelInference-Client"] * jitter())
        latencies.append(env.now - sent)

    def execute(store: simpy.Store, gpu: int, batch: list[tuple[float, simpy.Event]]) -> ProcessGenerator:
        yield env.timeout((topology.exec_base + topology.exec_per_item * len(batch)) * float(rng.gamma(20.0, 0.05)))
        for _, done in batch:
            done.succeed()
        yield store.put(gpu)

    def batcher(w: int) -> ProcessGenerator:
        queue, store = queues[w], free_gpus[w]
        while True:
            gpu = yield store.get()
            first = yield queue.get()
            batch = [first]
            deadline = first[0] + topology.batch_window
            while len(batch) < topology.max_batch_size:
                if queue.items:
                    batch.append((yield queue.get()))
                    continue
                remaining = deadline - env.now
                if remaining <= 0:
                    break
                get = queue.get()
                result = yield get | env.timeout(remaining)
                if get in result:
                    batch.append(result[get])
                else:
                    get.cancel()
                    break
            env.process(execute(store, gpu, batch))

    def client() -> ProcessGenerator:
        n = 0
        while True:
            yield env.timeout(float(rng.exponential(1.0 / rate)))
            env.process(request(n))
            n += 1

    for w in range(topology.workers):
        env.process(batcher(w))
    env.process(client())
    env.run(until=duration)
    return {"requests": float(len(latencies)), "mean_latency_ms": 1000.0 * float(np.mean(latencies))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rcakit.bench sim", description=__doc__.splitlines()[0])
    parser.add_argument("--topology", default="L", choices=["S", "M", "L"])
    parser.add_argument("--duration", type=float, default=3600.0, help="simulated seconds (default one hour)")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--simpy-seconds", type=float, default=120.0,
                        help="simulated seconds for the simpy baseline (extrapolated to --duration)")
    args = parser.parse_args(argv)

    from rcakit.sim import Topology, simulate

    topology = {"S": Topology.small, "M": Topology.medium, "L": Topology.large}[args.topology]()
    rows: list[_SimRow] = []
    simulated = f"{args.duration / 60:g} min"

    def latency_of(tel: Telemetry) -> float:
        return float(cast("float", tel.series("Client:latency").get_column("value").mean()))  # a float column

    variants: tuple[tuple[str, _SimOptions], ...] = (
        ("rcakit.sim: metrics, logs, traces 1/20", {}),
        ("rcakit.sim: metrics only", {"logs": False, "trace_sample": None}))
    for label, kwargs in variants:
        def one_run(kw: _SimOptions = kwargs) -> Telemetry:
            return simulate(topology, duration=args.duration, rate=args.rate, seed=0, **kw)

        seconds, tel = median_time(one_run, repeat=args.repeat)
        requests = float(tel.series("Client:request_rate").get_column("value").sum()) * 10.0
        rows.append({"variant": label, "simulated": simulated, "requests": f"{requests:,.0f}",
                     "median s": seconds, "simulated requests/s": requests / seconds,
                     "mean latency ms": latency_of(tel), "rows": f"{tel.metrics.height + tel.logs.height + tel.spans.height:,}"})

    t0 = time.perf_counter()
    ref = simpy_reference(topology, duration=args.simpy_seconds, rate=args.rate, seed=0)
    took = time.perf_counter() - t0
    scale = args.duration / args.simpy_seconds
    rows.append({"variant": f"baseline: simpy, {args.simpy_seconds:g} s simulated, x{scale:g}",
                 "simulated": simulated, "requests": f"{ref['requests'] * scale:,.0f}",
                 "median s": took * scale, "simulated requests/s": ref["requests"] / took,
                 "mean latency ms": ref["mean_latency_ms"], "rows": "0"})
    print(f"Topology {topology.name} ({topology.workers} x {topology.gpus_per_worker} GPUs), {args.rate:g} requests/s, "
          f"median of {args.repeat}; budget: one simulated hour in <= 30 s")
    print(markdown_table(rows, ["variant", "simulated", "requests", "median s", "simulated requests/s",
                                "mean latency ms", "rows"]))
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")
    best = min(r["median s"] for r in rows[:2])
    return 0 if math.isfinite(best) else 1


if __name__ == "__main__":
    raise SystemExit(main())
