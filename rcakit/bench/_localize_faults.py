"""``faults`` rows of ``python -m rcakit.bench localize``: the fault type of the true root cause on the simulator
families (:mod:`rcakit.sim.families`, eight fault kinds), tuning seeds and scoring seeds side by side.

:func:`rcakit.attribution.classify_fault` is asked about the injected entity; its answer and the family's label
are compared in the classifier's words (:func:`rcakit.attribution.faults.canonical_fault_type`). The disk and
packet-loss families, the rule that errors yield to a resource that rose with them and the rule that latency
alone is evidence of a delay only when no family naming a cause moved were written from the tuning seeds'
misses; the scoring seeds were not looked at.
"""

from __future__ import annotations

from collections import Counter

from rcakit.attribution.faults import canonical_fault_type, classify_fault
from rcakit.bench._common import Row, markdown_table

__all__ = ["family_fault_rows"]


def _confusion(seeds: tuple[int, ...]) -> Counter[tuple[str, str]]:
    from rcakit.sim import families

    counts: Counter[tuple[str, str]] = Counter()
    for family, kind, seed in families.family_cases(seeds):
        incident = families.family_incident(family, kind, seed=seed)
        guess = classify_fault(incident, incident.truth.root_cause_entities[0]) if incident.truth else None
        counts[(kind, guess.fault_type if guess else "unknown")] += 1
    return counts


def family_fault_rows(family_seeds: int = 2) -> list[Row]:
    """One row per seed set (tuning, scoring): accuracy per fault kind and overall; prints the confusions."""
    from rcakit.sim import families

    rows: list[Row] = []
    for role, seeds in (("tuning", tuple(families.TUNING_SEEDS)[:family_seeds]),
                        ("scored", tuple(families.SCORING_SEEDS)[:family_seeds])):
        counts = _confusion(seeds)
        row: Row = {"dataset": "sim families: fault type", "role": f"{role} (seeds "
                               f"{', '.join(map(str, seeds))})"}
        right = total = 0
        for kind in families.FAULT_KINDS:
            want = canonical_fault_type(kind)
            n = sum(v for (k, _), v in counts.items() if k == kind)
            ok = sum(v for (k, g), v in counts.items() if k == kind and g == want)
            row[kind] = f"{ok}/{n}"
            right, total = right + ok, total + n
        row["all"] = f"{right / max(total, 1):.2f} ({right}/{total})"
        rows.append(row)
        confusion = [{"true kind": k, "guessed": g, "n": v} for (k, g), v in sorted(counts.items())
                     if g != canonical_fault_type(k)]
        print(f"\nFault-type misses on the families' {role} seeds:\n" + markdown_table(confusion), flush=True)
    return rows
