"""tune export: the run's refit (or with --no-refit the best trial's own weights), their
scores, the SavedModel and tune.json."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import optuna
import pytest
from mlflow import MlflowClient

from objectives import get_metric, predict, prepare, score
from objectives._folds import refit_fold
from search.cli import main
from tests.conftest import Stores
from tests.search.built import built_study, flowers_csv

pytestmark = pytest.mark.slow

STUDY = "flowers-species"
REST_ROWS = 120  # of flowers' 150, outside the 20 % test split


@dataclass(frozen=True)
class Exported:
    stores: Stores
    data: Path
    out: Path
    said: str  # what `tune export` printed

    @property
    def meta(self) -> dict:
        return json.loads((self.out / "tune.json").read_text(encoding="utf-8"))


@contextmanager
def _exported(
    factory: pytest.TempPathFactory, migrated_mlflow_db: Path, *run_args: str
) -> Iterator[Exported]:
    data = flowers_csv(factory.mktemp("data"))
    run = ("--data", str(data), "--target", "species", *run_args)
    with built_study(factory, migrated_mlflow_db, *run) as stores:
        out = stores.root.parent / "export"
        with pytest.MonkeyPatch.context() as patch:
            said = io.StringIO()
            patch.setattr(sys, "stdout", said)
            assert main(["export", STUDY, "--out", str(out), *stores.flags()]) == 0
        yield Exported(stores, data, out, said.getvalue())


@pytest.fixture(scope="module")
def exported(
    tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path
) -> Iterator[Exported]:
    """A study run with the defaults: its model is the refit on every row outside the test."""
    with _exported(tmp_path_factory, migrated_mlflow_db) as made:
        yield made


@pytest.fixture(scope="module")
def own_weights(
    tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path
) -> Iterator[Exported]:
    """A study run with --no-refit: its model is the best trial's own."""
    with _exported(tmp_path_factory, migrated_mlflow_db, "--no-refit") as made:
        yield made


def _study(exported: Exported) -> optuna.Study:
    return optuna.load_study(study_name=STUDY, storage=exported.stores.storage)


def _parent(exported: Exported):
    client = MlflowClient(tracking_uri=exported.stores.tracking_uri)
    experiment = client.get_experiment_by_name(STUDY)
    return client.search_runs([experiment.experiment_id], "tags.`tune.role` = 'study'")[0]


def test_the_export_is_the_runs_refit_and_scores_its_logged_test_value(
    exported: Exported,
) -> None:
    study, meta, parent = _study(exported), exported.meta, _parent(exported)
    best = study.best_trial
    assert meta["refit"] is True
    assert meta["refit_of"] == {"trial": best.number, "rows": REST_ROWS, "cv": 1, "draws": 3}
    assert meta["source_model_uri"] == parent.data.tags["tune.refit_model_uri"]
    assert meta["metric"]["validation"] is None  # the refit trained on the validation rows
    assert meta["metric"]["trial_value"] == pytest.approx(best.value)
    assert (
        f"refit of trial #{best.number} on {REST_ROWS} rows, the mean of 3 draws (validation "
        "accuracy" in exported.said
    )
    # Independently of the export code: reload the file, replay the refit's rows and
    # preprocessing (fitted on all 120, not the trials' 90), score the test split.
    model = keras.saving.load_model(exported.out / "model.keras", safe_mode=True)
    data = prepare(str(exported.data), "species", None, int(study.user_attrs["seed"]))
    fold = refit_fold(data)
    metric = get_metric("accuracy", "multiclass")
    value = score(model, fold.splits.x_test, fold.splits.y_test, metric, "multiclass")
    assert value == pytest.approx(parent.data.metrics["test_accuracy"], abs=1e-6)
    assert meta["preprocessor"] == json.loads(json.dumps(fold.preprocessor.to_dict()))
    assert meta["preprocessor"] != json.loads(study.user_attrs["schema"])["preprocessor"]


def test_no_refit_ships_the_best_trials_own_weights(own_weights: Exported) -> None:
    study = _study(own_weights)
    meta = own_weights.meta
    assert meta["refit"] is False and meta["refit_of"] is None
    assert abs(meta["metric"]["validation"] - study.best_value) <= 1e-6
    # Independently of the export code: reload the file and replay the study's splits.
    model = keras.saving.load_model(own_weights.out / "model.keras", safe_mode=True)
    data = prepare(str(own_weights.data), "species", None, int(study.user_attrs["seed"]))
    metric = get_metric("accuracy", "multiclass")
    value = score(model, data.splits.x_val, data.splits.y_val, metric, "multiclass")
    assert abs(value - study.best_value) <= 1e-6
    assert meta["trial"] == study.best_trial.number
    assert meta["source_model_uri"] == study.best_trial.user_attrs["model_uri"]
    assert meta["preprocessor"] == json.loads(study.user_attrs["schema"])["preprocessor"]
    assert "tune.refit_model_uri" not in _parent(own_weights).data.tags
    assert meta["metric"]["test"] == pytest.approx(
        _parent(own_weights).data.metrics["test_accuracy"], abs=1e-6
    )


def test_a_refit_of_an_earlier_best_is_not_shipped(own_weights: Exported, tmp_path: Path) -> None:
    """A run with --no-refit that finds a better trial leaves an older run's refit behind."""
    study = _study(own_weights)
    other = next(t for t in study.trials if t.number != study.best_trial.number)
    stale = {"trial": other.number, "rows": REST_ROWS, "cv": 1, "test": 0.0,
             "model_uri": "models:/m-gone", "run_id": "gone"}  # fmt: skip
    study.set_user_attr("refit", stale)
    try:
        out = tmp_path / "x"
        assert main(["export", STUDY, "--out", str(out), *own_weights.stores.flags()]) == 0
        meta = json.loads((out / "tune.json").read_text(encoding="utf-8"))
        assert meta["trial"] == study.best_trial.number and meta["refit"] is False
    finally:
        study.set_user_attr("refit", None)


def test_the_test_score_is_in_tune_json_and_the_parent_run(exported: Exported) -> None:
    assert exported.meta["metric"]["test"] == pytest.approx(
        _parent(exported).data.metrics["test_accuracy"], abs=1e-6
    )


def test_tune_json_carries_schema_labels_preprocessing_and_versions(exported: Exported) -> None:
    study = _study(exported)
    meta = exported.meta
    assert meta["task"] == "multiclass"
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]
    assert meta["inputs"]["site"] == "categorical"
    assert meta["inputs"]["sepal width (cm)"] == "numeric"
    assert meta["params"] == study.best_trial.user_attrs["params"]
    assert {"python", "keras", "optuna", "mlflow", "numpy"} <= set(meta["versions"])


def test_the_saved_model_serves_what_keras_predicts(exported: Exported) -> None:
    import tensorflow as tf

    model = keras.saving.load_model(exported.out / "model.keras", safe_mode=True)
    served = tf.saved_model.load(str(exported.out / "saved_model"))
    x = np.random.default_rng(0).normal(size=(5, model.input_shape[-1])).astype(np.float32)
    np.testing.assert_allclose(served.serve(x).numpy(), predict(model, x), atol=1e-5)


def test_an_existing_export_needs_force(tune, exported: Exported) -> None:
    err = tune("export", STUDY, "--out", str(exported.out), *exported.stores.flags(), code=2).err
    assert err.strip() == f"error: '{exported.out}' already exists; pass --force to replace it."


def test_force_never_deletes_a_folder_that_is_not_an_export(
    tune, exported: Exported, tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    flags = exported.stores.flags()
    err = tune("export", STUDY, "--out", str(tmp_path), "--force", *flags, code=2).err
    assert "is not an earlier export" in err
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_refit_retrains_on_train_and_validation(tune, exported: Exported, tmp_path: Path) -> None:
    out = tmp_path / "refit"
    result = tune("export", STUDY, "--out", str(out), "--refit", *exported.stores.flags())
    assert "in-sample after --refit" in result.out
    meta = json.loads((out / "tune.json").read_text(encoding="utf-8"))
    assert meta["refit"] is True and meta["refit_of"]["draws"] == 3
    assert meta["params"] == exported.meta["params"]
    assert (out / "saved_model" / "saved_model.pb").is_file()


def test_unknown_study_and_study_without_complete_trial_are_errors(
    tune, exported, tmp_path
) -> None:
    flags = exported.stores.flags()
    err = tune("export", "nope", "--out", str(tmp_path / "x"), *flags, code=2).err
    assert err.startswith("error: unknown study 'nope'.")
    storage = f"sqlite:///{tmp_path / 'failed.db'}"
    study = optuna.create_study(study_name="broken", storage=storage)
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    err = tune("export", "broken", "--out", str(tmp_path / "x"), "--storage", storage, code=1).err
    assert err.startswith("error: study 'broken' has no complete trial yet")
    assert not (tmp_path / "x").exists()
