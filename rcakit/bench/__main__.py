"""``python -m rcakit.bench <name> [options]``: run one benchmark and print its table."""

from __future__ import annotations

import importlib
import sys

from rcakit.bench._common import available_benchmarks


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    names = available_benchmarks()
    if not args or args[0] in {"-h", "--help"}:
        print("usage: python -m rcakit.bench <name> [options]\n\nbenchmarks: " + ", ".join(names))
        return 0
    name, rest = args[0], args[1:]
    if name not in names:
        print(f"unknown benchmark {name!r}; choose one of: {', '.join(names)}", file=sys.stderr)
        return 2
    from rcakit._progress import set_progress

    set_progress(False)  # a benchmark prints tables: progress bars would only interleave with them
    module = importlib.import_module(f"rcakit.bench.{name}")
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
