"""bench/refit_draws.py's report: the selection and rows effects, signed so that + is better."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import refit_draws  # noqa: E402


def cell(
    dataset: str, metric: str, own: float, redraws: list[float], refits: list[float]
) -> dict[str, Any]:
    return {
        "dataset": dataset, "seed": 0, "metric": metric, "higher_is_better": metric != "rmse",
        "own": own, "replay": own, "redraws": redraws, "refit_draws": refits,
    }  # fmt: skip


def test_a_lucky_trial_and_helpful_rows_are_both_positive_whatever_the_direction() -> None:
    table = refit_draws.report(
        [
            # RMSE: the trial's 58 beats its redraws' 60 (lucky by 2); refits at 59 (rows +1).
            cell("diabetes", "rmse", 58.0, [59.0, 60.0, 61.0], [59.0, 59.0, 59.0]),
            # Accuracy: the trial's 0.70 is below its redraws' 0.72; refits 0.75 (rows +0.03).
            cell("hard_classes", "accuracy", 0.70, [0.72, 0.72, 0.72], [0.75, 0.74, 0.76]),
        ]
    )
    lines = table.splitlines()
    assert (
        lines[2]
        == "| diabetes | rmse | 1 | 58.0000 | 58.0000 | 60.0000 | 59.0000 | +2.0000 | +1.0000 |"
    )
    assert lines[3] == (
        "| hard_classes | accuracy | 1 | 0.7000 | 0.7000 | 0.7200 | 0.7500 | -0.0200 | +0.0300 |"
    )
