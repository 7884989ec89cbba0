"""bench/tpe_group.py: the candidate sampler it registers, and its report on recorded cells."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import optuna

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import tpe_group  # noqa: E402

from search.run._samplers import SAMPLERS, make_sampler  # noqa: E402


def _cell(dataset: str, seed: int, tpe: float, group: float, **extra: Any) -> dict[str, Any]:
    def sampler(shipped: float) -> dict[str, Any]:
        return {"trials": 10, "validation": shipped, "shipped": shipped, "n_layers": 2}

    accuracy = extra.get("metric", "accuracy") == "accuracy"
    return {
        "dataset": dataset, "seed": seed, "budget_s": 40.0, "metric": "accuracy",
        "test_rows": 30, "higher_is_better": accuracy, "tpe": sampler(tpe),
        tpe_group.GROUPED: sampler(group), **extra,
    }  # fmt: skip


def test_the_candidate_models_the_conditional_widths_jointly_and_tune_s_tpe_does_not() -> None:
    def objective(trial: optuna.Trial) -> float:
        layers = trial.suggest_int("n_layers", 0, 2)
        return sum(trial.suggest_float(f"w{i}", 0, 1) for i in range(layers))

    def relative_space(sampler: optuna.samplers.BaseSampler) -> list[str]:
        study = optuna.create_study(sampler=sampler)
        study.optimize(objective, n_trials=12)
        return sorted(sampler.infer_relative_search_space(study, study.ask()))

    tpe_group.register_candidate()
    try:
        grouped = make_sampler(tpe_group.GROUPED, 3)
    finally:
        SAMPLERS.pop(tpe_group.GROUPED, None)

    # tune's TPE models only what every trial has; the widths fall back to one-by-one TPE.
    assert relative_space(make_sampler("tpe", 3)) == ["n_layers"]
    assert relative_space(grouped) == ["n_layers", "w0", "w1"]


def test_the_report_counts_seeds_and_datasets_in_each_metric_s_direction() -> None:
    cells = [
        # iris, 30 test rows: one row is 0.033; a gain under half a row is level.
        _cell("iris", 0, 0.90, 0.9667),
        _cell("iris", 1, 0.90, 0.91),
        _cell("iris", 2, 0.90, 0.8667),
        # Regression: lower is better, so 48 against 50 puts the group ahead.
        _cell("diabetes", 0, 50.0, 48.0, metric="rmse"),
        _cell("diabetes", 1, 50.0, 55.0, metric="rmse"),
    ]

    text = tpe_group.report(cells)

    rows = {line.split(" | ")[0].strip("| "): line for line in text.splitlines()}
    assert " | 1 / 1 / 1 | " in rows["iris"] and " | 10 / 10 | " in rows["iris"]
    assert " | rmse | 2 | " in rows["diabetes"] and " | 1 / 0 / 1 | " in rows["diabetes"]
    # iris: means 0.90 against 0.9145, ahead; diabetes: 50 against 51.5 RMSE, behind.
    assert text.endswith("(within one test row): 1 of 2 datasets.")
