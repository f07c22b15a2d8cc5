"""``python -m rcakit.bench review``: how fast does a human fix a drafted graph, five edges at a time?

Review efficiency. For MoM, DoWhy microservice, PetShop (latency) and the simulator S/M/L, a
:class:`~rcakit.review.ReviewSession` hands out batches of five questions
(``rcakit.graph.validate.next_batch`` on the dataset's data, ordered by expected F1 gain) and an
oracle that knows the true graph answers each: accept a true edge, reject a false one, reverse a
reversed one, accept (add) a missing one the batch proposes, skip an edge on an unmeasured metric.
A question may carry a propagated suggestion, the same answer for the other pairs of the edge's
kind (replicas), listed in full (``rcakit.graph.validate.similar_changes``); the oracle confirms it
only when every listed change is right, and that click counts as one answer (``--no-propagate``
turns suggestions off; the table's ``edges decided`` column counts per edge instead). F1
(directed, observed graph, ``rcakit.graph.compare_graphs``) is printed after 0, 5, 10, 20 and 30
answers, with the F1 that ten answers fixing one edge each, chosen with hindsight, would give
(``best possible @10``) and a line saying whether F1 >= 0.9 was reached within 10 answers.
Starting drafts:

* ``knowledge``: ``draft_graph(dataset)`` with the offline systems-knowledge suggester (the default
  drafter without an LLM endpoint);
* ``knowledge-perturbed``: that draft with a seeded 20 % of its observed edges removed, reversed or
  added, a third each (:func:`knowledge_perturbed_draft`), one draft per ``--seeds`` entry;
* ``data``: drafted from the data alone, PC over all observed nodes (:func:`data_draft`);
* ``perturbed``: the true graph with a seeded 15 % of edges dropped, 15 % reversed and 15 % false
  edges added (confidences drawn at random), to measure the review loop apart from the drafter.

The goal (F1 >= 0.9 within 10 answers) is stated for the seeded drafts. The question-ordering
constants (``rcakit.graph.validate.GAIN_WEIGHTS``) were chosen on the tuning sets only (other
simulation and perturbation seeds than the scored ones); the bench prints both ("tuned on: ...;
scored: ...") and warns when they overlap.

Validation quality (``--sections validation``): on perturbed drafts (six seeds each) of DoWhy
microservice, PetShop (latency) and the simulator S/M, how many of the first five edges
``next_batch`` hands out are worth the look (precision@5: a drafted edge that is reversed or false,
or a proposed missing edge that the truth has), and the share of the wrong drafted edges (reversed
or false) handed out within the first two batches, the oracle answering between batches. On the
simulator L (``--validation-speed``), the seconds of the first ``next_batch`` call and the median of
the later ones while the oracle answers five batches.

Speed (``--sections speed``): the median decision round trip through the GraphReviewer
(click -> ReviewSession updated and autosaved -> view traitlets rebuilt) on a 200-edge draft, beside
the bare ``CausalDraft.set_status`` and a session without a view in the same process; the
Python-side serialization of the 200-edge view; with ``--browser`` the time Debian's chromium takes
to draw the 200-edge standalone HTML export.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rcakit.bench._common import Row, markdown_table, peak_rss_mb
from rcakit.bench._review_drafts import data_draft, knowledge_perturbed_draft, perturbed_draft
from rcakit.bench._review_efficiency import (
    CHECKPOINTS,
    GOAL_ANSWERS,
    GOAL_F1,
    SEEDED_DRAFTS,
    answers_to,
    best_possible_f1,
    edges_at,
    f1_at,
    oracle_answer,
    oracle_review,
    reached,
    review_run,
    run_efficiency,
)
from rcakit.bench._review_speed import run_speed
from rcakit.bench._review_validation import run_validation, run_validation_speed

__all__ = [
    "CHECKPOINTS",
    "GOAL_ANSWERS",
    "GOAL_F1",
    "Options",
    "answers_to",
    "best_possible_f1",
    "data_draft",
    "edges_at",
    "f1_at",
    "goal_lines",
    "knowledge_perturbed_draft",
    "main",
    "oracle_answer",
    "oracle_review",
    "parse_options",
    "perturbed_draft",
    "reached",
    "review_run",
    "tuning_line",
]

DATASETS = ("mom", "dowhy", "petshop-latency", "sim-S", "sim-M", "sim-L")
FAMILY_DATASETS = ("fam-webshop", "fam-pipeline", "fam-shared_db", "fam-replicated")
DRAFTS = ("knowledge", "knowledge-perturbed", "data", "perturbed")
#: Where the question-ordering constants (rcakit.graph.validate.GAIN_WEIGHTS) were chosen: never the
#: seeds scored by default. The simulator data of the tuning runs came from ``graph_case(name, TUNING_SIM_SEED)``;
#: the four simulator families (systems the knowledge rules never saw) with family seed TUNING_FAMILY_SEED
#: (a tuning seed of rcakit.sim.families) and perturbation seeds TUNING_FAMILY_SEEDS. ``--tuning`` reruns them.
TUNING_DATASETS = ("sim-S", "sim-M")
TUNING_SIM_SEED = 1
TUNING_SEEDS = tuple(range(100, 106))
TUNING_FAMILY_SEED = 101
TUNING_FAMILY_SEEDS = (100, 101)
SCORING_SEEDS = (0, 1, 2)
SECTIONS = ("efficiency", "validation", "speed")
VALIDATION_DATASETS = ("dowhy", "petshop-latency", "sim-S", "sim-M")


@dataclass(frozen=True)
class Options:
    """The parsed command line of the review bench."""

    datasets: list[str]
    drafts: list[str]
    sections: list[str]
    validation_datasets: list[str]
    seeds: list[int]
    args: argparse.Namespace


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m rcakit.bench review", description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated: " + ", ".join(DATASETS))
    parser.add_argument("--drafts", default=",".join(DRAFTS), help="comma-separated: " + ", ".join(DRAFTS))
    parser.add_argument("--batches", type=int, default=6, help="answers given: batches x 5")
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated data and of the data draft")
    parser.add_argument("--seeds", default=",".join(map(str, SCORING_SEEDS)),
                        help="perturbation seeds of the knowledge-perturbed and perturbed drafts")
    parser.add_argument("--data-seconds", type=float, default=60.0, help="time bound of PC for the data draft")
    parser.add_argument("--sim-baseline", default="1h", help="normal operation simulated before the fault")
    parser.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated: " + ", ".join(SECTIONS))
    parser.add_argument("--validation-datasets", default=",".join(VALIDATION_DATASETS),
                        help="datasets of the validation-quality section")
    parser.add_argument("--validation-seeds", type=int, default=6, help="perturbed drafts per dataset")
    parser.add_argument("--validation-speed", default="sim-L",
                        help="dataset timed for seconds per next_batch ('' to skip)")
    parser.add_argument("--order", default="expected_gain", choices=("expected_gain", "suspicion"),
                        help="question order of the efficiency section (rcakit.graph.validate.QuestionOrder)")
    parser.add_argument("--no-propagate", action="store_true",
                        help="never confirm a propagated suggestion (one edge per answer)")
    parser.add_argument("--tuning", action="store_true",
                        help="score the tuning sets instead (in-sample: the sets the constants were chosen on)")
    parser.add_argument("--no-speed", action="store_true", help="skip the speed measurements")
    parser.add_argument("--browser", action="store_true", help="also time the 200-edge drawing in chromium")
    return parser


def _items(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def parse_options(argv: list[str]) -> Options | str:
    """The command line as :class:`Options`, or a message naming what is unknown or malformed."""
    args = _parser().parse_args(argv)
    try:
        seeds = [int(x) for x in _items(args.seeds)]
    except ValueError:
        return f"--seeds takes comma-separated integers, got {args.seeds!r}"
    opts = Options(_items(args.datasets), _items(args.drafts), _items(args.sections),
                   _items(args.validation_datasets), seeds, args)
    unknown = (sorted(set(opts.datasets) - set(DATASETS) - set(FAMILY_DATASETS)) + sorted(set(opts.drafts) - set(DRAFTS))
               + sorted(set(opts.sections) - set(SECTIONS)) + sorted(set(opts.validation_datasets) - set(DATASETS)))
    if unknown:
        return (f"unknown dataset, draft or section {unknown}; datasets: {', '.join(DATASETS)}; "
                f"drafts: {', '.join(DRAFTS)}; sections: {', '.join(SECTIONS)}")
    if args.batches < 1:
        return f"--batches must be at least 1, got {args.batches}"
    return opts


def tuning_line(datasets: list[str], seeds: list[int], sim_seed: int) -> str:
    """Which sets and seeds chose the constants and which are scored; a warning when they overlap."""
    overlap = sorted(set(seeds) & set(TUNING_SEEDS))
    warning = f"; WARNING: scored seeds {overlap} were used for tuning" if overlap else ""
    if sim_seed == TUNING_SIM_SEED:
        warning += f"; WARNING: data seed {sim_seed} was used for tuning"
    return (f"tuned on: {', '.join(TUNING_DATASETS)} seeds {TUNING_SEEDS[0]}-{TUNING_SEEDS[-1]} (perturbation; "
            f"simulated data seed {TUNING_SIM_SEED}) and {', '.join(FAMILY_DATASETS)} seeds "
            f"{', '.join(map(str, TUNING_FAMILY_SEEDS))} (perturbation; family seed {TUNING_FAMILY_SEED}); "
            f"scored: {', '.join(datasets)} seeds {', '.join(map(str, seeds))} (perturbation; data seed "
            f"{sim_seed}){warning}")


def goal_lines(rows: list[Row], drafts: list[str]) -> list[str]:
    """One line per seeded kind of draft: on how many datasets every draft reached the goal."""
    out = []
    column = f"goal (<= {GOAL_ANSWERS})"
    for kind in (k for k in drafts if k in SEEDED_DRAFTS):
        mine = [r for r in rows if r["draft"] == kind]
        held = [str(r["dataset"]) for r in mine if str(r[column]).split("/")[0] == str(r[column]).split("/")[1]]
        out.append(f"goal F1 >= {GOAL_F1} within {GOAL_ANSWERS} answers, {kind} drafts: "
                   f"{len(held)}/{len(mine)} datasets ({', '.join(held) or 'none'})")
    return out


def _efficiency(opts: Options, folder: Path) -> None:
    args = opts.args
    propagate = not args.no_propagate
    print(f"## Review efficiency (oracle answers batches of 5; ranking: validate; propagated "
          f"suggestions {'on' if propagate else 'off'})\n", flush=True)
    common = {"drafts": opts.drafts, "batches": args.batches, "sim_baseline": args.sim_baseline, "folder": folder,
              "data_seconds": args.data_seconds, "order": args.order, "propagate": propagate}
    if args.tuning:
        line = ("IN-SAMPLE: the tuning sets the constants were chosen on: "
                + tuning_line([], [], TUNING_SIM_SEED).split("; scored")[0].removeprefix("tuned on: "))
        print(line, flush=True)
        rows = run_efficiency(list(TUNING_DATASETS), seed=TUNING_SIM_SEED, seeds=list(TUNING_SEEDS), **common)
        rows += run_efficiency(list(FAMILY_DATASETS), seed=TUNING_SIM_SEED, seeds=list(TUNING_FAMILY_SEEDS),
                               family_seed=TUNING_FAMILY_SEED, **common)
    else:
        line = tuning_line(opts.datasets, opts.seeds, args.seed)
        print(line, flush=True)
        rows = run_efficiency(opts.datasets, seed=args.seed, seeds=opts.seeds, **common)
    print()
    print(markdown_table(rows))
    print()
    print(line)
    for goal in goal_lines(rows, opts.drafts):
        print(goal)


def main(argv: list[str]) -> int:
    opts = parse_options(argv)
    if isinstance(opts, str):
        print(opts)
        return 2
    args = opts.args
    with tempfile.TemporaryDirectory(prefix="rcakit-bench-review-") as tmp:
        folder = Path(tmp)
        if "efficiency" in opts.sections:
            _efficiency(opts, folder)
        if "validation" in opts.sections:
            print("\n## Validation quality (perturbed drafts: 15 % dropped, 15 % reversed, 15 % false edges)\n",
                  flush=True)
            print(markdown_table(run_validation(opts.validation_datasets, seed=args.seed, seeds=args.validation_seeds,
                                                sim_baseline=args.sim_baseline)))
            if args.validation_speed:
                print(f"\n## Seconds per next_batch ({args.validation_speed}, perturbed draft, oracle answering)\n",
                      flush=True)
                print(markdown_table([run_validation_speed(args.validation_speed, seed=args.seed,
                                                           sim_baseline=args.sim_baseline)]))
        if "speed" in opts.sections and not args.no_speed:
            print("\n## Review speed (200-edge draft, medians)\n", flush=True)
            print(markdown_table(run_speed(folder, browser=args.browser)))
    print(f"\npeak RSS {peak_rss_mb():.0f} MB")
    return 0
