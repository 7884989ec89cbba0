"""`tune run --keep-epoch best|last`: which epoch's weights a trial keeps and is scored by."""

from __future__ import annotations

import json
import sqlite3

import optuna
import pytest
from mlflow import MlflowClient

from search.stores._lookup import trained_params

pytestmark = pytest.mark.slow

RUN = ("--data", "iris", "--trials", "4", "--max-epochs", "8", "--pruner", "none",
       "--quiet", "--no-report")  # fmt: skip


def _complete(stores) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name="iris", storage=stores.storage)
    return study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))


def _epochs(trial: optuna.trial.FrozenTrial) -> list[float]:
    return [trial.intermediate_values[step] for step in sorted(trial.intermediate_values)]


def _study_run(stores):
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name("iris")
    return client, client.search_runs([experiment.experiment_id], "tags.`tune.role` = 'study'")[0]


def test_a_trial_keeps_its_last_epoch_by_default(tune, stores) -> None:
    tune("run", *RUN, *stores.flags())

    trials = _complete(stores)
    assert len(trials) == 4
    client, parent = _study_run(stores)
    for trial in trials:
        scores = _epochs(trial)
        assert trial.value == scores[-1]
        assert trial.user_attrs["kept_epochs"] == len(scores) == trial.params["epochs"]
        run = client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.data.metrics["kept_epochs"] == len(scores)
    study = optuna.load_study(study_name="iris", storage=stores.storage)
    assert study.user_attrs["keep_epoch"] == "last"
    assert parent.data.tags["tune.keep_epoch"] == "last"


def test_keep_epoch_best_keeps_and_scores_the_best_epoch(tune, stores, tmp_path) -> None:
    tune("run", *RUN, "--keep-epoch", "best", "--no-refit", *stores.flags())

    trials = _complete(stores)
    assert len(trials) == 4
    client, parent = _study_run(stores)
    for trial in trials:
        scores = _epochs(trial)
        assert len(scores) == trial.user_attrs["params"]["epochs"]
        assert trial.value == max(scores)
        assert trial.user_attrs["kept_epochs"] == scores.index(max(scores)) + 1  # the first
        run = client.get_run(trial.user_attrs["mlflow_run_id"])
        assert run.data.metrics["kept_epochs"] == trial.user_attrs["kept_epochs"]
    assert parent.data.tags["tune.keep_epoch"] == "best"
    # The logged model holds the kept weights: the export checks that the reloaded model
    # scores the trial's value on validation.
    out = tmp_path / "export"
    tune("export", "iris", "--out", str(out), *stores.flags())
    meta = json.loads((out / "tune.json").read_text(encoding="utf-8"))
    study = optuna.load_study(study_name="iris", storage=stores.storage)
    assert abs(meta["metric"]["validation"] - study.best_value) <= 1e-6


def test_a_study_keeps_its_choice(tune, stores) -> None:
    tune("run", *RUN, "--keep-epoch", "best", *stores.flags())

    err = tune("run", *RUN, "--keep-epoch", "last", *stores.flags(), code=2).err
    assert err.startswith("error: study 'iris' was made with keep_epoch='best', not 'last';")
    assert len(err.strip().splitlines()) == 1
    tune("run", *RUN, *stores.flags())  # without the flag, a rerun goes on as it began
    assert len(_complete(stores)) == 8
    assert all(t.value == max(_epochs(t)) for t in _complete(stores))


def test_a_study_from_before_the_choice_goes_on_keeping_the_last_epoch(tune, stores) -> None:
    tune("run", *RUN, "--keep-epoch", "last", *stores.flags())
    # A study made before the choice existed has no such attribute.
    with sqlite3.connect(stores.root / "optuna.db") as db:
        db.execute("DELETE FROM study_user_attributes WHERE key = 'keep_epoch'")

    tune("run", *RUN, *stores.flags())

    assert len(_complete(stores)) == 8
    assert all(t.value == _epochs(t)[-1] for t in _complete(stores))
    err = tune("run", *RUN, "--keep-epoch", "best", *stores.flags(), code=2).err
    assert err.startswith("error: study 'iris' was made with keep_epoch='last', not 'best';")


def test_a_refit_trains_for_the_kept_epochs() -> None:
    trial = optuna.trial.create_trial(
        params={"epochs": 9}, distributions={"epochs": optuna.distributions.IntDistribution(1, 9)},
        value=0.9, user_attrs={"params": {"epochs": 9, "units_0": 16}, "kept_epochs": 4},
    )  # fmt: skip
    before = optuna.trial.create_trial(
        params={"epochs": 9}, distributions={"epochs": optuna.distributions.IntDistribution(1, 9)},
        value=0.9, user_attrs={"params": {"epochs": 9, "units_0": 16}},
    )  # fmt: skip

    assert trained_params(trial) == {"epochs": 4, "units_0": 16}
    assert trained_params(before) == {"epochs": 9, "units_0": 16}  # a trial from before
