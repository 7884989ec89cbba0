"""tune predict on raw rows, from an export folder and from models:/NAME@champion."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from objectives import Preprocessor, predict
from search.cli import main
from spaces import DataError
from tests.conftest import Stores
from tests.search.built import built_study, flowers_csv

STUDY = "flowers-species"
NAME = "flowers-model"
CHAMPION = f"models:/{NAME}@champion"
CLASSES = ["setosa", "versicolor", "virginica"]


@dataclass(frozen=True)
class Shipped:
    stores: Stores
    data: Path
    out: Path


@pytest.fixture(scope="module")
def shipped(
    tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path
) -> Iterator[Shipped]:
    data = flowers_csv(tmp_path_factory.mktemp("data"))
    with built_study(
        tmp_path_factory, migrated_mlflow_db, "--data", str(data), "--target", "species"
    ) as stores:
        out = stores.root.parent / "export"
        args = ["export", STUDY, "--out", str(out), "--register", NAME, *stores.flags()]
        assert main(args) == 0
        yield Shipped(stores, data, out)


def _rows(shipped: Shipped, tmp_path: Path, frame: pd.DataFrame | None = None) -> str:
    path = tmp_path / "rows.csv"
    (pd.read_csv(shipped.data) if frame is None else frame).to_csv(path, index=False)
    return str(path)


def _expected(shipped: Shipped, frame: pd.DataFrame) -> np.ndarray:
    """The export's probabilities, computed here without search.ship._predict."""
    meta = json.loads((shipped.out / "tune.json").read_text(encoding="utf-8"))
    model = keras.saving.load_model(shipped.out / "model.keras", safe_mode=True)
    preprocessor = Preprocessor.from_dict(meta["preprocessor"])
    return predict(model, preprocessor.transform(frame[preprocessor.columns]))


@pytest.mark.slow
def test_export_then_predict_raw_rows_gives_labels_and_probabilities(
    tune, shipped, tmp_path
) -> None:
    rows = _rows(shipped, tmp_path)
    result = tune("predict", str(shipped.out), "--data", rows, "--out", str(tmp_path / "p.csv"))
    assert "warning: ignoring column(s) the model does not use: 'species'." in result.err
    predictions = pd.read_csv(tmp_path / "p.csv")
    assert list(predictions.columns) == ["species", *(f"proba_{c}" for c in CLASSES)]
    assert len(predictions) == 150
    assert set(predictions["species"]) <= set(CLASSES)
    expected = _expected(shipped, pd.read_csv(rows))
    probabilities = predictions[[f"proba_{c}" for c in CLASSES]].to_numpy()
    np.testing.assert_allclose(probabilities, expected, atol=1e-6)
    assert list(predictions["species"]) == [CLASSES[i] for i in expected.argmax(axis=1)]


@pytest.mark.slow
def test_without_out_the_csv_goes_to_standard_output(tune, shipped, tmp_path) -> None:
    rows = _rows(shipped, tmp_path)
    result = tune("predict", str(shipped.out), "--data", rows)
    assert "Wrote 150 prediction(s) to standard output" in result.err
    tune("predict", str(shipped.out), "--data", rows, "--out", str(tmp_path / "p.csv"))
    pd.testing.assert_frame_equal(
        pd.read_csv(io.StringIO(result.out)), pd.read_csv(tmp_path / "p.csv")
    )


@pytest.mark.slow
def test_the_champion_predicts_like_the_export(tune, shipped, tmp_path) -> None:
    client = MlflowClient(tracking_uri=shipped.stores.tracking_uri)
    version = client.get_model_version_by_alias(NAME, "champion")
    study_run = json.loads((shipped.out / "tune.json").read_text(encoding="utf-8"))["source_run_id"]
    assert version.run_id == study_run
    rows = _rows(shipped, tmp_path)
    flags = ["--tracking-uri", shipped.stores.tracking_uri]
    tune("predict", str(shipped.out), "--data", rows, "--out", str(tmp_path / "a.csv"))
    tune("predict", CHAMPION, "--data", rows, "--out", str(tmp_path / "b.csv"), *flags)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))


@pytest.mark.slow
def test_pyfunc_load_model_predicts_a_raw_dataframe(shipped) -> None:
    mlflow.set_tracking_uri(shipped.stores.tracking_uri)
    frame = pd.read_csv(shipped.data).drop(columns="species").head(7)
    predictions = mlflow.pyfunc.load_model(CHAMPION).predict(frame)
    assert list(predictions.columns) == ["species", *(f"proba_{c}" for c in CLASSES)]
    expected = _expected(shipped, frame)
    np.testing.assert_allclose(predictions.iloc[:, 1:].to_numpy(), expected, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="petal width (cm)"), "missing column(s) 'petal width (cm)'"),
        (
            lambda f: f.rename(columns={"petal width (cm)": "petal widht (cm)"}),
            "missing column(s) 'petal width (cm)'; the model reads 'sepal length (cm)', "
            "'sepal width (cm)', 'petal length (cm)', 'petal width (cm)', 'site'; "
            "unknown column(s): 'petal widht (cm)', 'species'",
        ),
        (
            lambda f: f.astype({"sepal length (cm)": object}).assign(
                **{"sepal length (cm)": "tall"}
            ),
            "column 'sepal length (cm)' must be numeric, but holds 'tall'",
        ),
        (lambda f: f.iloc[0:0], "has no rows"),
    ],
    ids=["missing-column", "misspelt-column", "wrong-type", "empty-body"],
)
def test_bad_rows_are_one_line_errors(tune, shipped, tmp_path, change, message) -> None:
    rows = _rows(shipped, tmp_path, change(pd.read_csv(shipped.data)))
    err = tune(
        "predict", str(shipped.out), "--data", rows, "--out", str(tmp_path / "p.csv"), code=1
    ).err
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.slow
def test_a_folder_that_is_not_an_export_is_refused(tune, shipped, tmp_path) -> None:
    rows = _rows(shipped, tmp_path)
    err = tune(
        "predict", str(tmp_path), "--data", rows, "--out", str(tmp_path / "p.csv"), code=2
    ).err
    assert err.strip() == (
        f"error: '{tmp_path}' is not a tune export: it has no tune.json. "
        "Make one with `tune export STUDY --out DIR`."
    )
    err = tune(
        "predict",
        str(tmp_path / "nothing"),
        "--data",
        rows,
        "--out",
        str(tmp_path / "p.csv"),
        code=2,
    ).err
    assert "does not exist" in err


@pytest.mark.slow
def test_an_unknown_registered_model_is_an_error(tune, shipped, tmp_path) -> None:
    rows = _rows(shipped, tmp_path)
    flags = ["--tracking-uri", shipped.stores.tracking_uri]
    err = tune(
        "predict",
        "models:/nope@champion",
        "--data",
        rows,
        "--out",
        str(tmp_path / "p.csv"),
        *flags,
        code=2,
    ).err
    assert err.startswith("error: cannot load 'models:/nope@champion':")
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("task", "columns", "classes", "outputs", "expected"),
    [
        ("regression", ("price",), (), [[1.5], [-2.0]], {"price": [1.5, -2.0]}),
        (
            "binary",
            ("spam",),
            ("no", "yes"),
            [[0.8], [0.1]],
            {"spam": ["yes", "no"], "proba_no": [0.2, 0.9], "proba_yes": [0.8, 0.1]},
        ),
        (
            "multiclass",
            ("kind",),
            ("a", "b", "c"),
            [[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]],
            {
                "kind": ["b", "a"],
                "proba_a": [0.1, 0.6],
                "proba_b": [0.7, 0.3],
                "proba_c": [0.2, 0.1],
            },
        ),
        (
            "multilabel",
            ("x", "y"),
            (),
            [[0.9, 0.2], [0.4, 0.6]],
            {"x": [1, 0], "y": [0, 1], "proba_x": [0.9, 0.4], "proba_y": [0.2, 0.6]},
        ),
    ],
)
def test_outputs_become_original_labels_per_task(task, columns, classes, outputs, expected) -> None:
    from objectives import TargetEncoding
    from search.ship._predict import output_frame

    frame = output_frame(np.array(outputs), TargetEncoding(task, columns, classes))
    pd.testing.assert_frame_equal(frame, pd.DataFrame(expected), check_dtype=False)


def test_a_regression_export_predicts_in_the_targets_units(
    tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path, tmp_path: Path
) -> None:
    # The network works on standardised targets inside; what ships must not.
    with built_study(tmp_path_factory, migrated_mlflow_db, "--data", "diabetes") as stores:
        out = tmp_path / "export"
        assert main(["export", "diabetes", "--out", str(out), *stores.flags()]) == 0
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=True).frame
    rows = tmp_path / "rows.csv"
    frame.drop(columns="target").to_csv(rows, index=False)
    preds = tmp_path / "preds.csv"
    assert main(["predict", str(out), "--data", str(rows), "--out", str(preds)]) == 0
    predicted = pd.read_csv(preds)["target"].to_numpy()
    # Standardised outputs would sit two standard deviations off (the mean is 152, the std
    # 77); a two-epoch model of the target's own units is well within half of one.
    assert abs(predicted.mean() - frame["target"].mean()) < 0.5 * frame["target"].std()
    error = np.sqrt(np.mean((predicted - frame["target"].to_numpy()) ** 2))
    assert error < frame["target"].std()  # better than predicting the mean


@pytest.mark.slow
def test_the_champion_declares_the_training_files_columns(shipped) -> None:
    mlflow.set_tracking_uri(shipped.stores.tracking_uri)
    model = mlflow.pyfunc.load_model(CHAMPION)
    training = pd.read_csv(shipped.data).drop(columns="species")

    inputs = {spec.name: spec for spec in model.metadata.get_input_schema().inputs}
    assert sorted(inputs) == sorted(training.columns)
    numeric = [c for c in training.columns if c != "site"]
    assert {inputs[c].type.name for c in numeric} == {"double"}
    assert inputs["site"].type.name == "string"
    assert not any(spec.required for spec in inputs.values())  # tune imputes what is missing
    outputs = model.metadata.get_output_schema().input_names()
    assert outputs == ["species", *(f"proba_{c}" for c in CLASSES)]
    example = model.input_example
    assert isinstance(example, pd.DataFrame) and len(example) > 0
    assert sorted(example.columns) == sorted(training.columns)


@pytest.mark.slow
def test_the_champion_predicts_its_own_example_and_rows_with_gaps(shipped) -> None:
    mlflow.set_tracking_uri(shipped.stores.tracking_uri)
    model = mlflow.pyfunc.load_model(CHAMPION)
    assert set(model.predict(model.input_example)["species"]) <= set(CLASSES)
    frame = pd.read_csv(shipped.data).drop(columns="species").head(5)
    frame.loc[0, "petal length (cm)"] = None  # MLflow's check lets it through to the imputation

    predictions = model.predict(frame)

    np.testing.assert_allclose(
        predictions.iloc[:, 1:].to_numpy(), _expected(shipped, frame), atol=1e-6
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.drop(columns="petal width (cm)"),
        lambda f: f.rename(columns={"petal width (cm)": "petal widht (cm)"}),
    ],
    ids=["missing", "misspelt"],
)
def test_the_champion_names_a_missing_column(shipped, change) -> None:
    mlflow.set_tracking_uri(shipped.stores.tracking_uri)
    frame = change(pd.read_csv(shipped.data).drop(columns="species").head(3))

    with pytest.raises(DataError) as caught:
        mlflow.pyfunc.load_model(CHAMPION).predict(frame)

    message = str(caught.value)
    assert "\n" not in message
    assert "missing column(s) 'petal width (cm)'" in message
    assert "the model reads 'sepal length (cm)'" in message
