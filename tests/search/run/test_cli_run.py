"""End-to-end `tune run` on a built-in dataset, checked through the Optuna and MLflow APIs."""

from __future__ import annotations

import io
import shlex

import numpy as np
import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient
from PIL import Image

from search.stores._names import RUN_ID_ATTR
from tests.objectives.images import digit_images, digits_folder

pytestmark = pytest.mark.slow


def _child_runs(client: MlflowClient, experiment_id: str, parent_id: str) -> list:
    return client.search_runs(
        [experiment_id], filter_string=f"tags.mlflow.parentRunId = '{parent_id}'", max_results=1000
    )


def test_run_logs_one_child_run_per_trial(tune, stores) -> None:
    result = tune(
        "run", "--data", "iris", "--trials", "3", "--max-epochs", "2", "--quiet", *stores.flags()
    )
    assert "Task: multiclass" in result.out
    assert "Baseline trial #0" in result.out

    study = optuna.load_study(study_name="iris", storage=stores.storage)
    assert len(study.trials) == 3
    assert study.trials[0].params["n_layers"] == 2  # the textbook baseline ran first

    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name("iris")
    parents = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`tune.role` = 'study'"
    )
    assert len(parents) == 1
    parent = parents[0]
    assert parent.data.tags["tune.task"] == "multiclass"
    assert parent.data.tags["tune.n0"] == "8"
    assert "test_accuracy" in parent.data.metrics
    # The model users get is the best configuration trained again on all 120 non-test rows,
    # the mean of three draws, unless it fits those rows worse than the trial's own model.
    best = study.best_trial.number
    if f"Note: the refit of trial #{best} was not kept" in result.out:
        assert study.user_attrs["refit"] is None and "tune.refit_trial" not in parent.data.tags
        assert "Test accuracy of the best model: " in result.out
    else:
        assert (
            f"Test accuracy of the refit model (trial #{best} retrained on 120 rows, every row "
            "outside the test split, the mean of 3 draws): " in result.out
        )
        assert parent.data.tags["tune.refit_trial"] == str(best)
        assert parent.data.tags["tune.refit_draws"] == "3"
        assert parent.data.tags["tune.refit_model_uri"].startswith("models:/m-")
        refit = study.user_attrs["refit"]
        assert refit["test"] == pytest.approx(parent.data.metrics["test_accuracy"])
    plots = {a.path for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert "plots/report.html" in plots

    children = _child_runs(client, experiment.experiment_id, parent.info.run_id)
    assert len(children) == len(study.trials)
    by_id = {run.info.run_id: run for run in children}
    for trial in study.trials:
        run = by_id[trial.user_attrs[RUN_ID_ATTR]]
        assert run.data.tags["tune.state"] == trial.state.name
        assert run.data.params["n_layers"] == str(trial.params["n_layers"])
        assert "units_0" in run.data.params
        if trial.state == optuna.trial.TrialState.COMPLETE:
            history = client.get_metric_history(run.info.run_id, "val_accuracy")
            assert [m.step for m in history] == list(range(len(history)))
            assert len(client.get_metric_history(run.info.run_id, "loss")) == len(history)
            assert run.data.metrics["value"] == pytest.approx(trial.value)

    # The export command the summary prints works as printed: it names these stores.
    lines = result.out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Next,"))
    export = shlex.split(lines[start + 2])
    assert export[:3] == ["tune", "export", "iris"]
    tune(*export[1:])
    assert (stores.root.parent / "exports" / "iris" / "tune.json").is_file()


def test_rerun_adds_trials_to_the_same_study(tune, stores) -> None:
    args = [
        "run",
        "--data",
        "iris",
        "--trials",
        "2",
        "--max-epochs",
        "1",
        "--quiet",
        "--no-report",
        *stores.flags(),
    ]
    tune(*args)
    tune(*args)
    study = optuna.load_study(study_name="iris", storage=stores.storage)
    assert len(study.trials) == 4
    assert sum(bool(t.user_attrs.get("baseline")) for t in study.trials) == 1


def test_a_study_made_for_other_data_is_refused_before_anything_is_written(tune, stores) -> None:
    tune("run", "--data", "iris", "--study", "s", "--trials", "1", "--max-epochs", "1",
         "--quiet", "--no-report", *stores.flags())  # fmt: skip
    err = tune("run", "--data", "wine", "--study", "s", "--trials", "1", "--quiet",
               *stores.flags(), code=2).err  # fmt: skip
    assert err.strip().startswith("error: study 's' was made with data_digest=")  # other data
    assert len(optuna.load_study(study_name="s", storage=stores.storage).trials) == 1
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name("s")
    assert len(client.search_runs([experiment.experiment_id], "tags.`tune.role` = 'study'")) == 1


def test_an_npz_file_with_label_columns_runs_as_multilabel(tune, stores, tmp_path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 2, 2))  # flattened to 4 inputs
    y = np.stack([x[:, 0, 0] > 0, x[:, 1, 1] > 0, x.sum(axis=(1, 2)) > 0], axis=1).astype(int)
    np.savez(tmp_path / "tags.npz", x=x, y=y)
    result = tune("run", "--data", str(tmp_path / "tags.npz"), "--trials", "2",
                  "--max-epochs", "1", "--quiet", "--no-report", *stores.flags())  # fmt: skip
    assert "Task: multilabel" in result.out
    study = optuna.load_study(study_name="tags", storage=stores.storage)
    assert len(study.trials) == 2
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name("tags")
    (parent,) = client.search_runs([experiment.experiment_id], "tags.`tune.role` = 'study'")
    assert parent.data.tags["tune.task"] == "multilabel"
    assert parent.data.tags["tune.n_inputs"] == "4"
    assert study.trials[0].params["loss"] == "binary_crossentropy"


def test_an_image_folder_runs_exports_and_predicts_images_of_any_size(
    tune, stores, tmp_path
) -> None:
    folder = digits_folder(tmp_path / "digits")
    result = tune("run", "--data", str(folder), "--trials", "2", "--max-epochs", "3",
                  "--quiet", "--no-report", *stores.flags())  # fmt: skip
    assert "Task: multiclass (target 'label' has 3 distinct values" in result.out
    assert "Inputs: 64;" in result.out
    tune("export", "digits", "--out", str(tmp_path / "export"), *stores.flags())
    # New images at twice the size, in color, with no class folders: resized and converted.
    new = tmp_path / "new"
    new.mkdir()
    for i, image in enumerate(digit_images(per_class=2)[0]):
        Image.fromarray(image).resize((16, 16)).convert("RGB").save(new / f"{i}.png")
    out = tune("predict", str(tmp_path / "export"), "--data", str(new)).out
    predictions = pd.read_csv(io.StringIO(out))
    probabilities = [f"proba_digit_{d}" for d in range(3)]
    assert list(predictions.columns) == ["file", "label", *probabilities]
    assert list(predictions["file"]) == [f"{i}.png" for i in range(6)]
    assert set(predictions["label"]) <= {"digit_0", "digit_1", "digit_2"}
    np.testing.assert_allclose(predictions[probabilities].sum(axis=1), 1.0, atol=1e-5)


def test_the_cnn_space_searches_convolutions_over_an_image_folder(tune, stores, tmp_path) -> None:
    folder = digits_folder(tmp_path / "digits")
    tune("run", "--data", str(folder), "--space", "cnn", "--trials", "2", "--max-epochs", "2",
         "--quiet", "--no-report", *stores.flags())  # fmt: skip
    study = optuna.load_study(study_name="digits", storage=stores.storage)
    assert study.trials[0].params["conv_layers"] == 2  # the textbook CNN first
    assert all("kernel_size" in t.params for t in study.trials)
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    run = client.get_run(study.trials[0].user_attrs[RUN_ID_ATTR])
    assert run.data.params["filters_1"] == "64"
    tune("export", "digits", "--out", str(tmp_path / "export"), "--refit", *stores.flags())
    out = tune("predict", str(tmp_path / "export"), "--data", str(folder)).out
    assert len(pd.read_csv(io.StringIO(out))) == 90


def test_regression_refits_by_default_and_ships_the_trials_model_with_no_refit(
    tune, stores
) -> None:
    run = ("run", "--data", "diabetes", "--trials", "2", "--max-epochs", "2", "--quiet",
           "--no-report", *stores.flags())  # fmt: skip
    out = tune(*run).out

    # The refit runs; its guard may keep the trial's model instead, and says so.
    assert (
        "every row outside the test split, the mean of 3 draws): " in out or "was not kept" in out
    )

    out = tune(*run, "--no-refit").out
    assert "Test rmse of the best model: " in out and "refit model" not in out
