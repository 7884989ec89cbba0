"""bench/ensemble.py: which models it averages, how, and its report on recorded cells."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import optuna

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import ensemble  # noqa: E402

from search.stores._names import MODEL_URI_ATTR  # noqa: E402


def _study(direction: str, values: list[float], logged: set[int]) -> optuna.Study:
    study = optuna.create_study(direction=direction)
    for number, value in enumerate(values):
        trial = study.ask()
        if number in logged:
            trial.set_user_attr(MODEL_URI_ATTR, f"models:/m-{number}")
        study.tell(trial, value)
    return study


def test_only_trials_with_a_logged_model_are_ranked_best_first_in_the_study_s_direction() -> None:
    values = [0.5, 0.9, 0.7, 0.95, 0.8]
    up = ensemble.ranked_models(_study("maximize", values, {0, 1, 2, 4}))
    down = ensemble.ranked_models(_study("minimize", values, {0, 1, 2, 4}))

    assert [t.number for t in up] == [1, 4, 2, 0]  # trial 3 is best but has no model
    assert [t.number for t in down] == [0, 2, 4, 1]


def test_outputs_are_averaged_row_by_row_and_class_by_class() -> None:
    a = np.array([[0.9, 0.1], [0.2, 0.8]])
    b = np.array([[0.5, 0.5], [0.6, 0.4]])

    np.testing.assert_allclose(ensemble.mean_output([a, b]), [[0.7, 0.3], [0.4, 0.6]])


def _cell(dataset: str, seed: int, before: float, **scores: float) -> dict[str, Any]:
    regression = dataset == "diabetes"
    return {
        "dataset": dataset, "seed": seed, "metric": "rmse" if regression else "accuracy",
        "higher_is_better": not regression, "test_rows": 100, "logged_models": 6,
        "refits3_kept": seed == 0, "before": before,
        **{name: scores.get(name, before) for name in ensemble.VARIANTS},
    }  # fmt: skip


def test_the_report_tallies_each_variant_against_what_shipped_before_in_the_metric_s_direction() -> (
    None
):
    cells = [
        # RMSE: top3 lower (better) on both seeds; refit higher (worse) on both.
        _cell("diabetes", 0, 58.0, top3=57.0, refit=59.0),
        _cell("diabetes", 1, 60.0, top3=59.0, refit=61.0),
        # Accuracy: top3 two rows ahead on one seed, level on the other; pair two rows behind.
        _cell("digits", 0, 0.90, top3=0.92, pair=0.88),
        _cell("digits", 1, 0.90, pair=0.88),
    ]
    rows = {line.split(" | ")[0][2:]: line for line in ensemble.report(cells).splitlines()}
    columns = dict(zip(ensemble.VARIANTS, rows["diabetes"].split(" | ")[6:], strict=True))
    digits = dict(zip(ensemble.VARIANTS, rows["digits"].split(" | ")[6:], strict=True))

    assert columns["top3"] == "58.0000 (2 / 0 / 0)"
    assert columns["refit"] == "60.0000 (0 / 0 / 2)"
    assert columns["own"] == "59.0000 (0 / 2 / 0)"
    assert digits["top3"] == "0.9100 (1 / 1 / 0)"
    assert digits["pair"] == "0.8800 (0 / 0 / 2)"
    summary = ensemble.report(cells).splitlines()[-1]
    assert "of 2 datasets: now 2, own 2, refit 1, refits3 2, refits5 2, pair 1, top2 2," in summary
    assert rows["diabetes"].split(" | ")[4] == "1 of 2"  # the studies whose refits 3 were kept


def test_a_refit_is_kept_as_tune_keeps_it_when_it_fits_its_rows_at_least_as_well() -> None:
    assert ensemble.keeps("maximize", 0.9)(0.9) and not ensemble.keeps("maximize", 0.9)(0.89)
    assert ensemble.keeps("minimize", 10.0)(9.0) and not ensemble.keeps("minimize", 10.0)(11.0)
