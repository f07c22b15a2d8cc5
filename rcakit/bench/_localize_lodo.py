"""``lodo`` rows of ``python -m rcakit.bench localize``: leave-one-dataset-out over the generic path's defaults.

Sets (each skipped with a note when it cannot be built):

* ``dowhy microservice`` and ``petshop`` (real; every incident, drafted offline as ``rcakit analyze`` does);
* ``sim S`` / ``sim M`` (the model-serving simulator, one fault of each kind per seed, tuning seeds
  :data:`SIM_TUNING_SEEDS`, scoring seeds :data:`SIM_SCORING_SEEDS`); the incident window opens
  :data:`LEAD_ROWS` steps before the fault and the alarm time is the onset, as when an SRE selects a
  window a little wider than the fault;
* ``simfam`` (:mod:`rcakit.sim.families`: web shop, pipeline, shared database, replicated services;
  its own tuning and scoring seeds), when that module is present.

The rules of the protocol are in :mod:`rcakit.bench._protocol`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from rcakit.bench._protocol import CaseSet, drafted_cases, lodo_rows, with_alarm_lead

if TYPE_CHECKING:
    from rcakit.bench._common import Row
    from rcakit.graph import CausalDraft
    from rcakit.telemetry import Incident

__all__ = ["LEAD_ROWS", "SIM_SCORING_SEEDS", "SIM_TUNING_SEEDS", "lodo_sets", "lodo_table_rows"]

SIM_TUNING_SEEDS = (20, 21)
SIM_SCORING_SEEDS = (30, 31)
LEAD_ROWS = 6


def _draft(inc: Incident) -> CausalDraft:
    from rcakit.graph import draft_graph

    return draft_graph(inc, alarm=inc.alarm)


def _real_sets(root: Path) -> list[CaseSet]:
    sets = []
    if (root / "dowhy-microservice").is_dir():
        from rcakit.telemetry.datasets import load_dowhy_microservice

        cases = drafted_cases(load_dowhy_microservice(root / "dowhy-microservice"), _draft)
        sets.append(CaseSet("dowhy microservice", cases, cases, real=True))
    if (root / "petshop" / "dataset" / "low_traffic").is_dir():
        from rcakit.telemetry.datasets import load_petshop

        cases = drafted_cases(load_petshop(root / "petshop"), _draft)
        sets.append(CaseSet("petshop", cases, cases, real=True,
                            group=lambda inc: str(inc.meta["target"]["target"]["metric"])))
    return sets


def _model_sim(size: str, seeds: tuple[int, ...]) -> list[Incident]:
    from rcakit.bench._localize_common import sim_fault_cases
    from rcakit.sim import Topology, make_incident

    topology = Topology.small() if size == "S" else Topology.medium()
    out = []
    for seed in seeds:
        for fault in sim_fault_cases(topology, seed):
            inc = make_incident(topology, fault, seed=seed, baseline="30min", logs=False)
            out.append(with_alarm_lead(inc, LEAD_ROWS, 10.0))
    return out


def _families(seeds: Iterable[int]) -> list[Incident]:
    from rcakit.sim import families

    return [families.family_incident(family, fault, seed=seed)
            for family, fault, seed in families.family_cases(seeds)]


def lodo_sets(root: Path, *, families_seeds: int = 1) -> list[CaseSet]:
    """Every set the leave-one-out runs over (real ones first)."""
    sets = _real_sets(root)
    for size in ("S", "M"):
        tune = drafted_cases(_model_sim(size, SIM_TUNING_SEEDS), _draft)
        score = drafted_cases(_model_sim(size, SIM_SCORING_SEEDS), _draft)
        sets.append(CaseSet(f"sim {size}", tune, score, real=False,
                            seeds=f"tune {SIM_TUNING_SEEDS}, score {SIM_SCORING_SEEDS}"))
    try:
        from rcakit.sim import families
    except ImportError:
        print("  simfam: rcakit.sim.families is not there; skipped")
        return sets
    tune_seeds = tuple(families.TUNING_SEEDS)[:families_seeds]
    score_seeds = tuple(families.SCORING_SEEDS)[:families_seeds]
    sets.append(CaseSet("simfam", drafted_cases(_families(tune_seeds), _draft),
                        drafted_cases(_families(score_seeds), _draft), real=False,
                        seeds=f"tune {tune_seeds}, score {score_seeds}",
                        group=lambda inc: str(inc.meta.get("family", "?"))))
    return sets


def lodo_table_rows(root: Path, *, families_seeds: int = 1) -> list[Row]:
    return lodo_rows(lodo_sets(root, families_seeds=families_seeds))
