"""Recorded cells that a two-arm benchmark's report (bench/_paired.py) must read right: the
signs of each metric's direction, the tie of half a test row, and the count of datasets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (dataset, seed, the base arm's shipped score, the candidate's, metric)
CASES = [
    # iris, 30 test rows: one row is 0.033; a gain under half a row is level.
    ("iris", 0, 0.90, 0.9667, "accuracy"),
    ("iris", 1, 0.90, 0.91, "accuracy"),
    ("iris", 2, 0.90, 0.8667, "accuracy"),
    # Regression: lower is better, so 48 against 50 puts the candidate ahead.
    ("diabetes", 0, 50.0, 48.0, "rmse"),
    ("diabetes", 1, 50.0, 55.0, "rmse"),
]


def paired_cells(
    arms: tuple[str, str], record: Callable[[str, float], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The CASES as recorded cells; `record(arm, shipped)` is an arm's record."""
    base, candidate = arms
    return [
        {
            "dataset": dataset,
            "seed": seed,
            "budget_s": 40.0,
            "metric": metric,
            "test_rows": 30,
            "higher_is_better": metric == "accuracy",
            base: record(base, base_score),
            candidate: record(candidate, score),
        }
        for dataset, seed, base_score, score, metric in CASES
    ]


def report_rows(text: str) -> dict[str, str]:
    """A report's table rows by dataset."""
    return {line.split(" | ")[0].strip("| "): line for line in text.splitlines()}


def assert_reads_the_cases_right(text: str) -> None:
    rows = report_rows(text)
    assert " | 1 / 1 / 1 | " in rows["iris"]
    assert " | rmse | 2 | " in rows["diabetes"] and " | 1 / 0 / 1 | " in rows["diabetes"]
    # iris: means 0.90 against 0.9145, ahead; diabetes: 50 against 51.5 RMSE, behind.
    assert text.endswith("(within one test row): 1 of 2 datasets.")
