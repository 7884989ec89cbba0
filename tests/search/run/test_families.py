"""Every family through `tune run`: dense perceptrons, cnn with augmentation, rnn, --space auto
and transfer learning; each checked in MLflow, then exported and predicted."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient

from search.stores._names import RUN_ID_ATTR
from tests.conftest import Stores
from tests.objectives.images import digits_folder
from tests.search.run.families import base_model, images_npz, sequences_npz

pytestmark = pytest.mark.slow
TINY = ("--trials", "2", "--max-epochs", "1", "--quiet", "--no-report")


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "study.toml"
    path.write_text(text)
    return str(path)


def _trial_params(stores: Stores, study_name: str) -> list[dict[str, str]]:
    """The MLflow parameters of every trial's run."""
    study = optuna.load_study(study_name=study_name, storage=stores.storage)
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    return [client.get_run(t.user_attrs[RUN_ID_ATTR]).data.params for t in study.trials]


def _family(stores: Stores, study_name: str) -> tuple[str, str]:
    """The family the study stored, and the one tagged on its MLflow run."""
    study = optuna.load_study(study_name=study_name, storage=stores.storage)
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name(study_name)
    parent = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`tune.role` = 'study'"
    )[0]
    return study.user_attrs["space"], parent.data.tags["tune.space"]


def _export_predict(
    tune: Callable[..., Any], stores: Stores, study: str, data: str
) -> pd.DataFrame:
    out = Path(f"export-{study}")
    tune("export", study, "--out", str(out), *stores.flags())
    return pd.read_csv(io.StringIO(tune("predict", str(out), "--data", data).out))


def test_a_perceptron_has_no_hidden_layer_parameters(tune, stores, tmp_path) -> None:
    config = _config(tmp_path, "[study]\ndata = 'iris'\n[space]\nn_layers = [0, 0]\n")
    tune("run", "--config", config, *TINY, *stores.flags())
    for params in _trial_params(stores, "iris"):
        assert params["n_layers"] == "0"
        assert {"units_0", "dropout", "activation"}.isdisjoint(params)
        assert {"initializer", "optimizer", "learning_rate", "loss"} <= set(params)
    iris = tmp_path / "iris.csv"
    from sklearn.datasets import load_iris

    load_iris(as_frame=True).frame.drop(columns="target").to_csv(iris, index=False)
    assert len(_export_predict(tune, stores, "iris", str(iris))) == 150


def test_cnn_on_the_digits_rows_as_8x8_images_with_augmentation(tune, stores, tmp_path) -> None:
    config = _config(
        tmp_path,
        "[space]\nn_layers = [0, 1]\nbatch_sizes = [64]\n"
        "[space.cnn]\nconv_layers = [1, 1]\nfilters = [8, 8]\n"
        # A flipped digit is no digit: only the other augmentations are offered.
        "[space.augment]\nenabled = true\nhorizontal_flip = false\n",
    )
    result = tune("run", "--data", "digits", "--space", "cnn", "--config", config, *TINY,
                  *stores.flags())  # fmt: skip
    assert "Family: cnn (--space cnn" in result.out
    trials = _trial_params(stores, "digits")
    for params in trials:
        assert params["conv_layers"] == "1" and params["filters_0"] == "8"
        assert {"augment_rotation", "augment_zoom", "augment_translation"} <= set(params)
        assert "augment_contrast" in params and "augment_flip" not in params
        for name in ("rotation", "zoom", "translation", "contrast"):
            assert (f"{name}_factor" in params) == (params[f"augment_{name}"] == "True")
    assert _family(stores, "digits") == ("cnn", "cnn")
    rows = tmp_path / "digits.csv"
    from sklearn.datasets import load_digits

    load_digits(as_frame=True).frame.drop(columns="target").head(20).to_csv(rows, index=False)
    predicted = _export_predict(tune, stores, "digits", str(rows))
    assert len(predicted) == 20 and set(predicted["target"]) <= set(range(10))


def test_rnn_on_sequences_labelled_1_and_2(tune, stores, tmp_path) -> None:
    data = str(sequences_npz(tmp_path / "waves.npz"))
    tune("run", "--data", data, "--space", "rnn", *TINY, *stores.flags())
    trials = _trial_params(stores, "waves")
    assert trials[0]["cell"] == "lstm" and trials[0]["rnn_layers"] == "1"  # the textbook RNN
    assert trials[0]["rnn_units_0"] == "8"  # the power-of-two rule on F = 2
    for params in trials:
        assert {"cell", "bidirectional", "rnn_dropout", "recurrent_dropout"} <= set(params)
        assert "conv_layers" not in params
    predicted = _export_predict(tune, stores, "waves", data)
    assert len(predicted) == 60 and set(predicted["target"]) <= {1, 2}
    assert list(predicted.columns) == ["target", "proba_1", "proba_2"]


@pytest.mark.parametrize(
    ("kind", "family", "knob"),
    [("csv", "dense", "n_layers"), ("folder", "cnn", "conv_layers"), ("npz", "rnn", "cell")],
)
def test_auto_picks_the_family_from_the_datas_shape(
    tune, stores, tmp_path, kind: str, family: str, knob: str
) -> None:
    if kind == "csv":
        frame = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7})
        frame["label"] = ["yes", "no"] * 20
        data = tmp_path / "table.csv"
        frame.to_csv(data, index=False)
    elif kind == "folder":
        data = digits_folder(tmp_path / "table", per_class=10)
    else:
        data = sequences_npz(tmp_path / "table.npz")
    result = tune("run", "--data", str(data), "--trials", "1", "--max-epochs", "1", "--quiet",
                  "--no-report", *stores.flags())  # fmt: skip
    assert f"Family: {family} (auto: " in result.out
    assert _family(stores, "table") == (family, family)
    assert knob in _trial_params(stores, "table")[0]
    assert len(_export_predict(tune, stores, "table", str(data))) > 0


def test_transfer_from_a_base_model_the_user_trained(tune, stores, tmp_path) -> None:
    data = str(images_npz(tmp_path / "glyphs.npz"))
    base = str(base_model(tmp_path / "base.keras", (8, 8, 1)))
    config = _config(tmp_path, "[space.transfer]\nunfreeze = [1, 1]\n")
    result = tune("run", "--data", data, "--base-model", base, "--config", config, *TINY,
                  "--max-epochs", "2", *stores.flags())  # fmt: skip
    assert "Family: cnn (the base model takes inputs of shape (8, 8, 1))" in result.out
    for params in _trial_params(stores, "glyphs"):
        assert params["unfreeze"] == "1" and "fine_tune_learning_rate" in params
        assert "conv_layers" not in params and "augment_rotation" in params
    study = optuna.load_study(study_name="glyphs", storage=stores.storage)
    assert study.user_attrs["base_model"] == str(Path(base).resolve())
    predicted = _export_predict(tune, stores, "glyphs", data)
    assert len(predicted) == 60 and set(predicted["target"]) <= {0, 1, 2}
    # The refit trains the best trial's base and head again, on every non-test row.
    refit = tmp_path / "refit"
    assert (
        "--refit" in tune("export", "glyphs", "--out", str(refit), "--refit", *stores.flags()).out
    )
    meta = json.loads((refit / "tune.json").read_text(encoding="utf-8"))
    assert meta["refit"] is True and meta["params"]["unfreeze"] == 1
    refitted = pd.read_csv(io.StringIO(tune("predict", str(refit), "--data", data).out))
    assert len(refitted) == 60 and set(refitted["target"]) <= {0, 1, 2}


def test_a_rerun_without_space_keeps_the_studys_family(tune, stores, tmp_path) -> None:
    # As a study made with the old default (dense) on a 3-D x is rerun after auto arrived.
    data = str(sequences_npz(tmp_path / "waves.npz"))
    args = ("--data", data, "--trials", "1", "--max-epochs", "1", "--quiet", "--no-report")
    tune("run", *args, "--space", "dense", *stores.flags())
    result = tune("run", *args, *stores.flags())
    assert "Family: dense (the study's own family, kept on a rerun)" in result.out
    assert all("cell" not in params for params in _trial_params(stores, "waves"))
    assert len(_trial_params(stores, "waves")) == 2


def test_cross_validated_rnn_trials(tune, stores, tmp_path) -> None:
    data = str(sequences_npz(tmp_path / "waves.npz"))
    tune("run", "--data", data, "--cv", "2", "--trials", "1", "--max-epochs", "1", "--quiet",
         "--no-report", *stores.flags())  # fmt: skip
    study = optuna.load_study(study_name="waves", storage=stores.storage)
    assert len(study.trials[0].user_attrs["fold_scores"]) == 2
    predicted = _export_predict(tune, stores, "waves", data)
    assert set(predicted["target"]) <= {1, 2}
