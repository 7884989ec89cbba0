"""bench/small_data.py's report: the verdicts and the test split's noise floor."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import small_data  # noqa: E402


def cell(dataset: str, mode: str, validation: float, test: float) -> dict[str, Any]:
    return {
        "dataset": dataset, "seed": 0, "mode": mode, "trials": 3, "validation": validation,
        "test": test, "gap": abs(validation - test), "test_rows": 100,
    }  # fmt: skip


def test_noise_is_the_mean_absolute_deviation_of_a_binomial_proportion() -> None:
    # sd of a proportion of 0.5 over 100 rows is 0.05; its mean absolute deviation 0.05 * 0.798.
    assert math.isclose(small_data.test_noise(0.5, 100), 0.05 * math.sqrt(2 / math.pi))
    assert small_data.test_noise(1.0, 100) == 0.0
    assert small_data.test_noise(0.9, 400) < small_data.test_noise(0.9, 100)


def test_report_counts_wins_within_a_test_row_and_compares_the_gap_with_the_floor() -> None:
    cells = [
        cell("wine", "cv5", 0.95, 0.945),  # a tie within one row of 100 is not a loss
        cell("wine", "single", 1.0, 0.95),
        cell("iris", "cv5", 0.90, 0.80),
        cell("iris", "single", 1.0, 0.90),
    ]
    text = small_data.report(cells)
    assert "on 1 of 4 datasets" in text
    assert "0.0525 with CV, 0.0750 with one split, a ratio of 0.70" in text
    floor = (small_data.test_noise(0.9475, 100) + small_data.test_noise(0.85, 100)) / 2
    assert f"at {floor:.4f}" in text
    assert "half the single split's gap, 0.0375, is above that floor" in text
