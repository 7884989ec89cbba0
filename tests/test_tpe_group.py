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
from tests.paired_cases import assert_reads_the_cases_right, paired_cells, report_rows  # noqa: E402


def _sampler(sampler: str, shipped: float) -> dict[str, Any]:
    return {"trials": 10, "validation": shipped, "shipped": shipped, "n_layers": 2}


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
    text = tpe_group.report(paired_cells(tpe_group.SAMPLERS, _sampler))

    assert_reads_the_cases_right(text)
    # The best validation values, the candidate's last.
    assert report_rows(text)["iris"].endswith(" | 0.9000 | 0.9145 |")
