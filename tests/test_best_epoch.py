"""bench/best_epoch.py: the report's signs, ties and count, on recorded cells."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import best_epoch  # noqa: E402

from tests.paired_cases import assert_reads_the_cases_right, paired_cells, report_rows  # noqa: E402


def _policy(keep: str, shipped: float) -> dict[str, Any]:
    kept = 20 if keep == "last" else 8
    return {"trials": 10, "own": shipped, "shipped": shipped, "epochs": 20, "kept_epochs": kept}


def test_the_report_counts_seeds_and_datasets_in_each_metric_s_direction() -> None:
    text = best_epoch.report(paired_cells(best_epoch.KEEPS, _policy))

    assert_reads_the_cases_right(text)
    assert " | 8.0 / 20.0 |" in report_rows(text)["iris"]
