"""`tune run --cv K`: each trial is K folds, and the model users get is a refit on every row."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

pytestmark = pytest.mark.slow

CV_RUN = ("--data", "iris", "--cv", "3", "--trials", "3", "--max-epochs", "2", "--quiet",
          "--no-report")  # fmt: skip


def _runs(stores, study: str = "iris") -> tuple[MlflowClient, object, list]:
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name(study)
    runs = client.search_runs([experiment.experiment_id])
    parent = next(r for r in runs if r.data.tags["tune.role"] == "study")
    return client, parent, [r for r in runs if r.data.tags["tune.role"] == "trial"]


def test_each_trial_is_the_mean_of_its_folds(tune, stores) -> None:
    out = tune("run", *CV_RUN, "--pruner", "none", *stores.flags()).out

    client, parent, trials = _runs(stores)
    assert "Validation: 3-fold cross-validation (--cv)" in out
    assert " over 3 folds" in out and "Test accuracy of the refit model (trial #" in out
    assert len(trials) == 3
    for run in trials:
        metrics = run.data.metrics
        folds = [metrics[f"fold_{k}"] for k in range(3)]
        history = client.get_metric_history(run.info.run_id, "fold_score")
        assert [(m.step, m.value) for m in sorted(history, key=lambda m: m.step)] == [
            (k, v) for k, v in enumerate(folds)
        ]
        assert metrics["value"] == pytest.approx(statistics.fmean(folds))
        assert metrics["value_std"] == pytest.approx(statistics.pstdev(folds))
        assert "loss" not in metrics  # no per-epoch records with folds
    study = optuna.load_study(study_name="iris", storage=stores.storage)
    assert all(len(t.user_attrs["fold_scores"]) == 3 for t in study.trials)
    # What the refit trains for: the folds' kept epochs, on average.
    assert all(1 <= t.user_attrs["kept_epochs"] <= t.params["epochs"] for t in study.trials)
    assert all(sorted(t.intermediate_values) == [0, 1, 2] for t in study.trials)
    assert parent.data.tags["tune.cv"] == "3"


def test_the_export_is_the_refit_and_reproduces_its_test_score(tune, stores, tmp_path) -> None:
    tune("run", *CV_RUN, *stores.flags())
    _, parent, trials = _runs(stores)

    out = tune("export", "iris", "--out", str(tmp_path / "x"), *stores.flags()).out

    meta = json.loads((tmp_path / "x" / "tune.json").read_text(encoding="utf-8"))
    assert meta["refit"] is True
    assert meta["refit_of"] == {"trial": meta["trial"], "rows": 120, "cv": 3, "draws": 3}
    assert meta["source_model_uri"] == parent.data.tags["tune.refit_model_uri"]
    # The export checks the reloaded weights against the logged test score to 1e-6.
    assert meta["metric"]["test"] == pytest.approx(parent.data.metrics["test_accuracy"], abs=1e-6)
    assert meta["metric"]["validation"] is None  # the refit has no validation rows
    assert f"refit of trial #{meta['trial']} on 120 rows, the mean of 3 draws (3-fold" in out
    # Its preprocessing is the refit's, fitted on all 120 rows, not the study's 90.
    study = optuna.load_study(study_name="iris", storage=stores.storage)
    stored = json.loads(study.user_attrs["schema"])["preprocessor"]
    assert meta["preprocessor"] != stored
    assert not any(t.user_attrs.get("model_uri") for t in study.trials)  # no per-trial models
    assert {r.info.run_id for r in trials}  # trial runs exist, without models of their own
    best = json.loads(tune("best", "iris", "--format", "json", *stores.flags()).out)
    assert best["model_uri"] == meta["source_model_uri"] and best["refit_rows"] == 120
    assert best["value_std"] >= 0 and best["test_value"] == pytest.approx(meta["metric"]["test"])


def test_a_study_keeps_its_folds(tune, stores) -> None:
    tune("run", *CV_RUN, *stores.flags())

    err = tune("run", "--data", "iris", "--trials", "1", "--quiet", *stores.flags(), code=2).err

    assert err.startswith("error: study 'iris' was made with cv=3, not 1;")


@pytest.mark.processes
def test_folds_work_with_worker_processes(tune, stores) -> None:
    tune("run", *CV_RUN, "--workers", "2", *stores.flags())

    study = optuna.load_study(study_name="iris", storage=stores.storage)
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert complete and all(len(t.user_attrs["fold_scores"]) == 3 for t in complete)


@pytest.mark.parametrize(
    ("cv", "message"),
    [
        ("0", "error: cv must be at least 1 (1 is a single validation split), but got cv=0."),
        ("-2", "error: cv must be at least 1 (1 is a single validation split), but got cv=-2."),
        (
            "500",
            "error: cv must be between 1 and 120 (the rows outside the test split), but got cv=500.",
        ),
        (
            "three",
            "error: Invalid value for '--cv': must be a whole number or 'auto', but got 'three'.",
        ),
    ],
)
def test_bad_folds_are_one_line_and_leave_nothing(tune, stores, cv, message) -> None:
    err = tune("run", "--data", "iris", "--cv", cv, *stores.flags(), code=2).err

    assert err.strip().splitlines()[0].startswith(message)
    assert len(err.strip().splitlines()) == 1
    assert not Path(stores.storage.removeprefix("sqlite:///")).exists()
