"""bench/best_epoch.py: the report's signs, ties and count, on recorded cells."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import best_epoch  # noqa: E402


def _cell(dataset: str, seed: int, last: float, best: float, **extra: Any) -> dict[str, Any]:
    def policy(shipped: float, kept: int) -> dict[str, Any]:
        return {"trials": 10, "own": shipped, "shipped": shipped, "epochs": 20, "kept_epochs": kept}

    accuracy = extra.get("metric", "accuracy") == "accuracy"
    return {
        "dataset": dataset, "seed": seed, "budget_s": 40.0, "metric": "accuracy",
        "test_rows": 30, "higher_is_better": accuracy, "last": policy(last, 20),
        "best": policy(best, 8), **extra,
    }  # fmt: skip


def test_the_report_counts_seeds_and_datasets_in_each_metric_s_direction() -> None:
    cells = [
        # iris, 30 test rows: one row is 0.033; a gain under half a row is level.
        _cell("iris", 0, 0.90, 0.9667),
        _cell("iris", 1, 0.90, 0.91),
        _cell("iris", 2, 0.90, 0.8667),
        # Regression: lower is better, so 48 against 50 puts best ahead.
        _cell("diabetes", 0, 50.0, 48.0, metric="rmse"),
        _cell("diabetes", 1, 50.0, 55.0, metric="rmse"),
    ]

    text = best_epoch.report(cells)

    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines()}
    assert " | 1 / 1 / 1 | " in rows["iris"] and " | 8.0 / 20.0 |" in rows["iris"]
    assert " | rmse | 2 | " in rows["diabetes"] and " | 1 / 0 / 1 | " in rows["diabetes"]
    # iris: means 0.90 against 0.9145, ahead; diabetes: 50 against 51.5 RMSE, behind.
    assert text.endswith("(within one test row): 1 of 2 datasets.")
