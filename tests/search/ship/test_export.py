"""tune export: the best trial's own weights, their scores, the SavedModel and tune.json."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import optuna
import pytest
from mlflow import MlflowClient

from objectives import get_metric, predict, prepare, score
from search.cli import main
from tests.conftest import Stores
from tests.search.built import built_study, flowers_csv

pytestmark = pytest.mark.slow

STUDY = "flowers-species"


@dataclass(frozen=True)
class Exported:
    stores: Stores
    data: Path
    out: Path

    @property
    def meta(self) -> dict:
        return json.loads((self.out / "tune.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def exported(
    tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path
) -> Iterator[Exported]:
    data = flowers_csv(tmp_path_factory.mktemp("data"))
    with built_study(
        tmp_path_factory, migrated_mlflow_db, "--data", str(data), "--target", "species"
    ) as stores:
        out = stores.root.parent / "export"
        assert main(["export", STUDY, "--out", str(out), *stores.flags()]) == 0
        yield Exported(stores, data, out)


def _study(exported: Exported) -> optuna.Study:
    return optuna.load_study(study_name=STUDY, storage=exported.stores.storage)


def test_the_exported_weights_score_the_logged_best_value(exported: Exported) -> None:
    study = _study(exported)
    meta = exported.meta
    assert abs(meta["metric"]["validation"] - study.best_value) <= 1e-6
    # Independently of the export code: reload the file and replay the study's splits.
    model = keras.saving.load_model(exported.out / "model.keras", safe_mode=True)
    data = prepare(str(exported.data), "species", None, int(study.user_attrs["seed"]))
    metric = get_metric("accuracy", "multiclass")
    value = score(model, data.splits.x_val, data.splits.y_val, metric, "multiclass")
    assert abs(value - study.best_value) <= 1e-6
    assert meta["trial"] == study.best_trial.number
    assert meta["source_model_uri"] == study.best_trial.user_attrs["model_uri"]


def test_the_test_score_is_in_tune_json_and_the_parent_run(exported: Exported) -> None:
    client = MlflowClient(tracking_uri=exported.stores.tracking_uri)
    experiment = client.get_experiment_by_name(STUDY)
    parent = client.search_runs([experiment.experiment_id], "tags.`tune.role` = 'study'")[0]
    assert exported.meta["metric"]["test"] == pytest.approx(
        parent.data.metrics["test_accuracy"], abs=1e-6
    )


def test_tune_json_carries_schema_labels_preprocessing_and_versions(exported: Exported) -> None:
    study = _study(exported)
    meta = exported.meta
    schema = json.loads(study.user_attrs["schema"])
    assert meta["task"] == "multiclass"
    assert meta["classes"] == ["setosa", "versicolor", "virginica"]
    assert meta["inputs"]["site"] == "categorical"
    assert meta["inputs"]["sepal width (cm)"] == "numeric"
    assert meta["preprocessor"] == schema["preprocessor"]
    assert meta["params"] == study.best_trial.user_attrs["params"]
    assert meta["refit"] is False
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
    assert meta["refit"] is True
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
