"""``python -m rcakit.bench reliability``: the bad-input corpus by category, counted by outcome.

Runs every case of ``tests/badinput/cases`` (the same list the tests run, imported from the source
checkout, so the two cannot drift) and prints, per category, how many inputs were rejected with a
clear error, accepted with what changed reported, accepted clean, or failed (a traceback from a
library, a hang, a silent wrong outcome, a check that does not hold). ``--cases`` adds one row per
case; ``--skip-large`` leaves out the cases made large on the fly (a 10 MB line, a million entities).

Options: ``--cases`` (one row per case), ``--skip-large``, ``--only SUBSTRING`` (case ids containing it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.badinput.cases import Result

__all__ = ["main", "run_corpus"]

OUTCOMES = ("rejected", "coerced", "clean", "failed")
LABELS = {"rejected": "rejected with a clear error", "coerced": "accepted, coercions reported",
          "clean": "accepted clean", "failed": "failed"}


def _corpus() -> ModuleType:
    """``tests.badinput.cases`` from the checkout rcakit runs from."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "tests" / "badinput" / "cases" / "__init__.py").is_file():
        raise SystemExit("rcakit.bench reliability needs the source checkout: tests/badinput/cases is not beside "
                         f"the rcakit package ({root}); run it from a clone of the repository")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    import tests.badinput.cases as corpus

    return corpus


def run_corpus(*, skip_large: bool = False, only: str | None = None) -> list[Result]:
    """Run every case (in a scratch folder each) and return their results."""
    corpus = _corpus()
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="rcakit-reliability-") as scratch:
        for number, case in enumerate(corpus.CASES):
            if (skip_large and case.slow) or (only and only not in case.id):
                continue
            results.append(corpus.run_case(case, Path(scratch) / f"{number:03d}"))
    return results


def _table(results: list[Result]) -> str:
    from rcakit.bench._common import markdown_table

    categories = list(dict.fromkeys(r.case.category for r in results))
    rows = []
    totals: Counter[str] = Counter()
    for category in categories:
        counts = Counter(r.outcome.value for r in results if r.case.category == category)
        totals.update(counts)
        rows.append({"category": category, "cases": sum(counts.values()),
                     **{LABELS[o]: counts.get(o, 0) for o in OUTCOMES}})
    rows.append({"category": "**all**", "cases": sum(totals.values()),
                 **{LABELS[o]: f"**{totals.get(o, 0)}**" for o in OUTCOMES}})
    return markdown_table(rows, ["category", "cases", *(LABELS[o] for o in OUTCOMES)])


def _case_rows(results: list[Result]) -> str:
    from rcakit.bench._common import markdown_table

    rows = [{"case": r.case.id, "category": r.case.category, "expected": r.case.expect.value,
             "outcome": r.outcome.value, "s": f"{r.seconds:.2f}", "detail": r.detail[:140].replace("|", "\\|")
             .replace("\n", " ")} for r in results]
    return markdown_table(rows, ["case", "category", "expected", "outcome", "s", "detail"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rcakit.bench reliability", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", action="store_true", help="also print one row per case")
    parser.add_argument("--skip-large", action="store_true", help="leave out the large cases made on the fly")
    parser.add_argument("--only", default=None, help="run only the cases whose id contains this")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run_corpus(skip_large=args.skip_large, only=args.only)
    elapsed = time.perf_counter() - started
    print(f"Bad-input corpus (tests/badinput/cases): {len(results)} cases, {elapsed:.1f} s\n")
    print(_table(results))
    failed = [r for r in results if r.outcome.value == "failed"]
    if failed:
        print("\nFailed:")
        for r in failed:
            print(f"- {r.case.id}: {r.detail[:300]}")
    if args.cases:
        print()
        print(_case_rows(results))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
