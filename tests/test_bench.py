"""The benchmark script's own helpers (its figures are never asserted)."""

import importlib.util

from conftest import ROOT

spec = importlib.util.spec_from_file_location("bench", ROOT / "benchmarks" / "bench.py")
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


def test_timed_reports_median_min_max():
    calls = []
    med, lo, hi = bench.timed(lambda: calls.append(1), repeat=5, warmup=2)
    assert len(calls) == 7 and lo <= med <= hi


def test_table_is_markdown():
    text = bench.table(["a", "b"], [[1, 2]])
    assert text.splitlines() == ["| a | b |", "|---|---|", "| 1 | 2 |"]


def test_merge_replaces_only_the_new_sections():
    old = "# R\n\n## Machine\n\nold machine\n\n## Numerics\n\nold numbers\n\n## Grading\n\nkept\n"
    new = "# R\n\n## Machine\n\nnew machine\n\n## Numerics\n\nnew numbers\n"
    merged = bench.merge(old, new)
    assert "new machine" in merged and "new numbers" in merged and "kept" in merged
    assert "old numbers" not in merged
    assert merged.index("## Numerics") < merged.index("## Grading")
