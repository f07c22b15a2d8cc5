"""Benchmarks: ``python -m rcakit.bench <name> [options]``; each prints a Markdown table for the README.

Each benchmark is a module ``rcakit.bench.<name>`` with ``main(argv: list[str]) -> int``. Numbers are
medians over repeats, and every speed figure stands beside a baseline measured in the same process.
"""

from rcakit.bench._common import available_benchmarks, markdown_table, median_time, peak_rss_mb

__all__ = ["available_benchmarks", "markdown_table", "median_time", "peak_rss_mb"]
