"""``python -m rcakit.bench llm_cache``: how many model calls an LLM draft of simulator S, M and L makes.

Each topology is drafted by :class:`~rcakit.graph.suggest_llm.LLMSuggester` (three votes per question)
through the real ``openai`` client against rcakit's local stand-in model
(:class:`~rcakit.graph.standin.StandInModel`, a rule-based server, not a language model: the counts depend on
which answers agree, not on their quality), each row on an empty cache in a temporary folder. Columns:

* ``every pair``: the baseline, every candidate pair asked ``n_votes`` times (no semantic cache);
* ``distinct questions``: the questions left after the semantic cache (replicas and mirrors asked once),
  each asked up to ``n_votes`` times with the options reordered;
* ``dry run``: what :meth:`~rcakit.graph.suggest_llm.LLMSuggester.dry_run` announced before the draft;
* ``calls``: the requests the server received; ``ratio``: every pair / calls;
* ``2nd draft``: the requests of a second draft of the same system by a new client on the same cache;
* ``key on disk``: whether the API key appears in any file of the cache.

Rows ``all votes`` ask every vote of every distinct question; rows ``stop at majority`` stop a
question's votes once the remaining ones cannot change the winner (Atlas, Appendix B).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from rcakit.bench._common import markdown_table

if TYPE_CHECKING:
    from rcakit.sim import Topology

__all__ = ["main", "measure"]

BENCH_KEY = "sk-bench-llm-cache-0123456789abcdef"
COLUMNS = ["topology", "voting", "pairs", "every pair", "distinct questions", "dry run", "calls", "ratio", "dry run off",
           "2nd draft", "key on disk", "seconds"]
#: One row of the table (the columns of COLUMNS).
_CacheRow = TypedDict("_CacheRow", {
    "topology": str, "voting": str, "pairs": int, "every pair": int, "distinct questions": int, "dry run": int,
    "calls": int, "ratio": str, "dry run off": str, "2nd draft": int, "key on disk": str, "seconds": float})


def measure(topology: Topology, *, n_votes: int = 3, stop_at_majority: bool = False,
            folder: Path | None = None) -> _CacheRow:
    """One row: draft ``topology`` twice on a fresh cache against the stand-in and count the requests."""
    from rcakit.graph import SystemModel, candidate_pairs, draft_graph, enumerate_metrics
    from rcakit.graph.standin import StandInModel
    from rcakit.graph.suggest_llm import LLMSuggester
    from rcakit.llm import LLMClient, LLMConfig
    from rcakit.sim.truth import system_description

    description = system_description(topology)
    system = enumerate_metrics(SystemModel.from_atlas(description))
    pairs = candidate_pairs(system)
    with tempfile.TemporaryDirectory(prefix="rcakit-bench-llm-", dir=folder) as tmp, StandInModel() as model:
        cache = Path(tmp) / "cache"

        def suggester() -> LLMSuggester:
            client = LLMClient(LLMConfig(model=model.model, base_url=model.base_url, api_key=BENCH_KEY,
                                         cache_dir=cache, max_concurrency=8))
            return LLMSuggester(client, n_votes=n_votes, stop_at_majority=stop_at_majority)

        first = suggester()
        estimate = first.dry_run(pairs, system)
        t0 = time.perf_counter()
        draft_graph(description, suggesters=[first])
        seconds = time.perf_counter() - t0
        calls = model.count
        draft_graph(description, suggesters=[suggester()])
        second = model.count - calls
        key_on_disk = any(BENCH_KEY in p.read_text(encoding="utf-8", errors="replace")
                          for p in cache.rglob("*") if p.is_file())
    every_pair = n_votes * len(pairs)
    return {"topology": topology.name, "voting": "stop at majority" if stop_at_majority else "all votes",
            "pairs": len(pairs), "every pair": every_pair, "distinct questions": estimate.unique // n_votes, "dry run": estimate.calls,
            "calls": calls, "ratio": f"{every_pair / max(calls, 1):.2f}x",
            "dry run off": f"{abs(calls - estimate.calls) / max(calls, 1):.1%}", "2nd draft": second,
            "key on disk": "yes" if key_on_disk else "no", "seconds": seconds}


def _warm_up() -> None:
    """Pay the openai package's first-request cost (imports, pydantic models) before anything is timed."""
    from rcakit.graph.standin import StandInModel

    with StandInModel() as model:
        client = model.client(use_cache=False)
        client.chat([{"role": "user", "content": "hi"}])
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rcakit.bench llm_cache", description=__doc__.splitlines()[0])
    parser.add_argument("--topologies", default="S,M,L", help="comma-separated, from S, M, L")
    parser.add_argument("--votes", type=int, default=3, help="votes per question (n_votes)")
    args = parser.parse_args(argv)

    from rcakit.sim import Topology

    make = {"S": Topology.small, "M": Topology.medium, "L": Topology.large}
    _warm_up()
    rows = []
    for name in [t.strip().upper() for t in args.topologies.split(",") if t.strip()]:
        if name not in make:
            parser.error(f"unknown topology {name!r}; choose from S, M, L")
        topology = make[name]()
        for stop in (False, True):
            row = measure(topology, n_votes=args.votes, stop_at_majority=stop)
            row["topology"] = f"{name} ({topology.workers}x{topology.gpus_per_worker} GPUs)"
            rows.append(row)
    print(f"LLM calls per draft, {args.votes} votes per question, real openai client against the local stand-in "
          "model; baseline 'every pair' = pairs x votes (no semantic cache)")
    print(markdown_table(rows, COLUMNS))
    bad = [r for r in rows if r["2nd draft"] or r["key on disk"] != "no"
           or abs(r["calls"] - r["dry run"]) > 0.1 * max(r["calls"], 1)]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
