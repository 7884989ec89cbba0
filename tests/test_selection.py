"""bench/selection.py: the standard errors, the rules' picks, and the report's signs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import FrozenTrial

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import selection  # noqa: E402


def trial(number: int, value: float) -> FrozenTrial:
    made = optuna.trial.create_trial(
        value=value, params={"layers": 1}, distributions={"layers": IntDistribution(1, 3)}
    )
    made.number = number
    return made


def test_the_standard_error_of_accuracy_is_binomial_and_of_rmse_a_deviations() -> None:
    # 90 of 100 right: p smoothed to 91/102.
    assert selection.standard_error("accuracy", 0.9, 100) == pytest.approx(0.0310, abs=1e-4)
    # A perfect score on 36 rows is still about one row's worth uncertain.
    assert selection.standard_error("accuracy", 1.0, 36) == pytest.approx(0.0267, abs=1e-4)
    assert selection.standard_error("rmse", 50.0, 50) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="use accuracy or rmse"):
        selection.standard_error("auc", 0.9, 100)


def test_the_rules_choose_among_the_trials_within_one_error_of_the_best() -> None:
    trials = [trial(0, 0.95), trial(1, 0.90), trial(2, 0.97), trial(3, 0.96)]
    near = selection.near_best(trials, trials[2], 0.025, maximize=True)
    assert [t.number for t in near] == [0, 2, 3]  # 0.90 is 0.07 behind
    sizes = {0: 5000.0, 1: 10.0, 2: 900.0, 3: 300.0}
    assert selection.picks(near, trials[2], sizes) == {"best": 2, "smallest": 3, "earliest": 0}


def test_on_a_loss_within_one_error_means_at_most_that_much_higher() -> None:
    trials = [trial(0, 60.0), trial(1, 55.0), trial(2, 57.0)]
    near = selection.near_best(trials, trials[1], 3.0, maximize=False)
    assert [t.number for t in near] == [1, 2]
    # A trial whose size MLflow lacks is never the smallest.
    assert selection.picks(near, trials[1], {1: 100.0})["smallest"] == 1


def cell(
    dataset: str, metric: str, model: list[float], refit: list[float] | None
) -> dict[str, Any]:
    return {
        "dataset": dataset, "seed": 0, "budget_s": 30.0, "metric": metric, "higher_is_better": metric != "rmse",
        "test_rows": 100, "trials": 40, "near": 3, "logged_best": model[0],
        "model": dict(zip(selection.RULES, model, strict=True)),
        "refit": dict(zip(selection.RULES, refit, strict=True)) if refit else None,
    }  # fmt: skip


def test_the_report_signs_gains_so_that_positive_is_better_and_counts_what_ships() -> None:
    table = selection.report(
        [
            # RMSE: smallest 2 lower (better), earliest 1 higher (worse).
            cell("diabetes", "rmse", [58.0, 56.0, 59.0], None),
            # Classification ships the refit: smallest loses 0.02 there though its model won.
            cell("wine", "accuracy", [0.90, 0.95, 0.90], [0.97, 0.95, 0.97]),
        ]
    )
    lines = table.splitlines()
    assert lines[2] == (
        "| wine | accuracy | 1 | 40 | 3.0 | 1 of 1 | 0.9000 | 0.9500 (+0.0500) | "
        "0.9000 (+0.0000) | 0.9700 | 0.9500 (-0.0200) | 0.9700 (+0.0000) | 0 / 0 / 1 | 0 / 1 / 0 |"
    )
    assert lines[3] == (
        "| diabetes | rmse | 1 | 40 | 3.0 | 1 of 1 | 58.0000 | 56.0000 (+2.0000) | "
        "59.0000 (-1.0000) | - | - | - | 1 / 0 / 0 | 0 / 0 / 1 |"
    )
    assert lines[-1].endswith(
        "`smallest` on 0 of 1 classification datasets; `earliest` on 1 of 1 classification "
        "datasets; `smallest` on 1 of 1 regression datasets; `earliest` on 0 of 1 regression "
        "datasets."
    )


def test_report_only_writes_the_page_from_the_recorded_cells_and_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import refit

    results, page = tmp_path / "cells.jsonl", tmp_path / "page.md"
    results.write_text(json.dumps(cell("outliers", "rmse", [50.0, 49.0, 51.0], None)) + "\n")
    monkeypatch.setattr(sys, "argv", ["selection.py", "--report"])

    def never(*args: object) -> dict[str, Any]:
        raise AssertionError("--report ran a study")

    refit.study_main(None, refit.DATASETS, results, page, never, selection._document)
    text = page.read_text()
    assert text.startswith("# Which trial to ship")
    assert "`python bench/selection.py --seeds 0`" in text
    assert "| outliers | rmse | 1 | 40 | 3.0 | 1 of 1 | 50.0000 | 49.0000 (+1.0000) |" in text
