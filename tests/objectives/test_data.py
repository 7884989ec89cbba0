"""prepare(): load, pick the target, split (stratified), fit preprocessing on train only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from objectives import PreparedData, prepare, target_columns
from spaces import ConfigError, DataError
from tests.objectives.tiny import Write, tiny_frame


def test_iris_is_split_60_20_20_and_stratified() -> None:
    data = prepare("iris", seed=0)
    splits = data.splits
    assert (len(splits.x_train), len(splits.x_val), len(splits.x_test)) == (90, 30, 30)
    for y in (splits.y_train, splits.y_val, splits.y_test):
        counts = y.sum(axis=0)  # one-hot: rows per class
        assert counts.max() - counts.min() == 0, counts  # 50 rows per class split evenly
    assert data.problem.task == "multiclass"
    assert (data.problem.n_inputs, data.problem.n_outputs) == (4, 3)
    assert data.encoding.columns == ("target",)


def test_breast_cancer_split_sizes_and_class_balance() -> None:
    data = prepare("breast_cancer", seed=3)
    splits = data.splits
    sizes = [len(splits.y_train), len(splits.y_val), len(splits.y_test)]
    assert sum(sizes) == 569
    assert sizes == [341, 114, 114]
    shares = [float(y.mean()) for y in (splits.y_train, splits.y_val, splits.y_test)]
    assert max(shares) - min(shares) < 0.01  # the positive share is the same in every split
    assert data.problem.n_inputs == 30 and data.problem.n0 == 64
    assert data.task_reason == "target 'target' has 2 distinct values (0, 1) -> binary"


def test_splits_are_reproducible_by_seed() -> None:
    first, again, other = (prepare("wine", seed=s).splits for s in (1, 1, 2))
    np.testing.assert_array_equal(first.x_test, again.x_test)
    assert not np.array_equal(first.x_test, other.x_test)


def test_splits_are_disjoint_and_cover_every_row(write: Write) -> None:
    frame = tiny_frame(50)
    frame["row"] = np.arange(50.0)  # a feature that identifies each row
    data = prepare(write(frame[["row", "x0", "label"]]), seed=0)
    rows = _raw_rows(data, "row")
    assert sorted(np.concatenate(list(rows.values()))) == list(range(50))


def _raw_rows(data: PreparedData, column: str) -> dict[str, np.ndarray]:
    """Undo the standardisation of `column` to recover which rows landed in which split."""
    spec = next(c for c in data.preprocessor.numeric if c.name == column)
    index = data.preprocessor.columns.index(column)
    splits = data.splits
    return {
        name: np.rint(x[:, index].astype(np.float64) * spec.scale + spec.mean).astype(int)
        for name, x in (("train", splits.x_train), ("val", splits.x_val), ("test", splits.x_test))
    }


def test_preprocessing_is_fitted_on_the_training_rows_only(write: Write) -> None:
    frame = tiny_frame(60)
    frame["row"] = np.arange(60.0)
    frame["x1"] = frame["row"] ** 2  # a skewed feature: its mean differs between subsets
    frame.loc[::7, "x0"] = np.nan
    data = prepare(write(frame[["row", "x0", "x1", "colour", "label"]]), seed=0)
    train = frame.iloc[_raw_rows(data, "row")["train"]]
    fitted = {c.name: c for c in data.preprocessor.numeric}
    assert fitted["x1"].mean == pytest.approx(train["x1"].mean())
    assert fitted["x1"].mean != pytest.approx(frame["x1"].mean())
    assert fitted["x1"].scale == pytest.approx(train["x1"].std(ddof=0))
    assert fitted["x0"].fill == pytest.approx(train["x0"].median())
    # Standardised on train: mean 0 and unit variance there, and not on the test split.
    x1 = data.preprocessor.columns.index("x1")
    assert data.splits.x_train[:, x1].mean() == pytest.approx(0.0, abs=1e-5)
    assert data.splits.x_train[:, x1].std() == pytest.approx(1.0, abs=1e-5)
    assert abs(data.splits.x_test[:, x1].mean()) > 1e-3
    assert np.isfinite(data.splits.x_val).all()


def test_nan_targets_are_dropped_with_a_note(write: Write) -> None:
    frame = tiny_frame(40, "regression")
    frame.loc[[3, 9, 21], "label"] = np.nan
    data = prepare(write(frame))
    splits = data.splits
    assert len(splits.y_train) + len(splits.y_val) + len(splits.y_test) == 37
    assert data.notes == ("dropped 3 row(s) with a missing target value",)
    assert np.isfinite(splits.y_train).all()


def test_no_note_without_missing_targets() -> None:
    assert prepare("iris").notes == ()


def test_a_folder_named_like_a_built_in_gets_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iris").mkdir()
    data = prepare("iris")
    assert data.problem.n_inputs == 4  # still the built-in
    assert data.notes == (
        "'iris' is read as the built-in dataset; for the file or folder of that name, write ./iris",
    )


def test_only_nan_targets_is_an_error(write: Write) -> None:
    frame = tiny_frame(20)
    frame["label"] = np.nan
    with pytest.raises(DataError) as info:
        prepare(write(frame))
    assert str(info.value) == "every row has a missing target value; fill the --target column."


def test_too_few_rows(write: Write) -> None:
    frame = tiny_frame(9, "regression")
    with pytest.raises(DataError) as info:
        prepare(write(frame))
    assert str(info.value) == (
        "too few rows to split: 9; train, validation and test need at least 10 rows in all."
    )


def test_ten_rows_are_enough(write: Write) -> None:
    splits = prepare(write(tiny_frame(10, "regression"))).splits
    assert (len(splits.y_train), len(splits.y_val), len(splits.y_test)) == (6, 2, 2)


def test_too_few_rows_after_dropping_nan_targets(write: Write) -> None:
    frame = tiny_frame(12, "regression")
    frame.loc[:4, "label"] = np.nan
    with pytest.raises(DataError, match="too few rows to split: 7"):
        prepare(write(frame))


def test_a_rare_class_is_named(write: Write) -> None:
    frame = tiny_frame(30)
    frame.loc[[0, 1], "label"] = 7
    with pytest.raises(DataError) as info:
        prepare(write(frame))
    assert str(info.value) == (
        "class 7 has only 2 row(s); every class needs at least 3 rows, "
        "one for each of train, validation and test."
    )


def test_unused_categories_of_a_categorical_target_are_not_classes(write: Write) -> None:
    frame = tiny_frame(30)
    frame["label"] = pd.Categorical(np.where(frame["label"] == 1, "a", "b"), ["a", "b", "zz"])
    data = prepare(write(frame, "cat.parquet"))
    assert data.encoding.classes == ("a", "b")


def test_a_split_that_cannot_hold_every_class_is_a_data_error(write: Write) -> None:
    frame = pd.DataFrame({"x": np.arange(12.0), "y": [0, 1, 2, 3] * 3})
    with pytest.raises(DataError) as info:
        prepare(write(frame))
    message = str(info.value)
    assert message.startswith("cannot split the data: ")
    assert message.endswith(". Add rows or merge rare classes.")
    assert ".." not in message


def test_target_defaults_to_the_last_column() -> None:
    frame = pd.DataFrame({"a": [1], "b": [2], "z": [3]})
    assert target_columns(frame, None) == ["z"]
    assert target_columns(frame, " ") == ["z"]


def test_several_targets_and_spaces_around_names() -> None:
    frame = pd.DataFrame({"a": [1], "b": [2], "z": [3]})
    assert target_columns(frame, "a, b") == ["a", "b"]
    assert target_columns(frame, "b,a,b") == ["b", "a"]  # a repeated name is one column


def test_unknown_target_column_lists_the_columns() -> None:
    frame = pd.DataFrame({f"c{i}": [1] for i in range(14)})
    with pytest.raises(DataError) as info:
        target_columns(frame, "c1,price")
    assert str(info.value) == (
        "unknown target column 'price'. The columns are: "
        "c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, ...."
    )


def test_a_repeated_target_name_is_one_target(write: Write) -> None:
    data = prepare(write(tiny_frame(30)), target="label,label")
    assert data.encoding.columns == ("label",)
    assert data.problem.task == "binary"


def test_multilabel_targets(write: Write) -> None:
    data = prepare(write(tiny_frame(40, "multilabel")), target="a,b")
    assert data.problem.task == "multilabel"
    assert data.problem.n_outputs == 2
    assert data.splits.y_train.shape[1] == 2
    assert data.problem.n_inputs == 2 + 3  # x0, x1 and three colours


def test_task_override_reaches_the_problem(write: Write) -> None:
    data = prepare(write(tiny_frame(30)), task="multiclass")
    assert data.problem.task == "multiclass" and data.problem.n_outputs == 2
    assert data.splits.y_train.shape[1] == 2


def test_a_target_alone_has_no_features(write: Write) -> None:
    with pytest.raises(DataError, match="no feature columns besides the target"):
        prepare(write(pd.DataFrame({"y": [0, 1] * 10})))


def test_min_abs_target_decides_mape(write: Write) -> None:
    frame = tiny_frame(30, "regression")
    frame["label"] = np.linspace(2.0, 9.0, 30)
    assert prepare(write(frame)).problem.min_abs_target == pytest.approx(2.0)
    assert prepare("breast_cancer").problem.min_abs_target is None


def test_unknown_task_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="'ranking' is not a valid task"):
        prepare("iris", task="ranking")


def test_schema_is_json_ready(write: Write) -> None:
    data = prepare(write(tiny_frame(30, "multiclass")))
    schema = json.loads(json.dumps(data.schema(), allow_nan=False))
    assert schema["task"] == "multiclass"
    assert schema["target"] == ["label"]
    assert schema["classes"] == ["cat", "dog", "eel"]
    assert schema["inputs"] == {"x0": "numeric", "x1": "numeric", "colour": "categorical"}


@pytest.mark.parametrize("target", [",", " , ,"])
def test_a_target_of_only_commas_is_refused(target: str) -> None:
    # Found by the property tests: it raised IndexError.
    with pytest.raises(ConfigError) as info:
        target_columns(pd.DataFrame({"a": [1]}), target)
    assert str(info.value) == f"target must name at least one column, but got target={target!r}."


def test_a_regression_problem_carries_the_training_targets_mean_and_spread() -> None:
    data = prepare("diabetes")
    y_train = data.splits.y_train[:, 0].astype(np.float64)
    assert data.problem.target_center == pytest.approx(y_train.mean())
    assert data.problem.target_scale == pytest.approx(y_train.std())
    # The arrays stay in the target's units; the model standardises inside (see _build).
    assert data.splits.y_val.min() >= 25


@pytest.mark.parametrize("name", ["iris", "breast_cancer"])
def test_classification_problems_are_not_standardised(name: str) -> None:
    problem = prepare(name).problem
    assert (problem.target_center, problem.target_scale) == (0.0, 1.0)


def test_a_constant_regression_target_keeps_a_unit_scale(write: Write) -> None:
    frame = pd.DataFrame({"a": np.arange(30.0), "b": np.arange(30.0) % 7, "y": 2.5})
    problem = prepare(write(frame), task="regression").problem
    assert (problem.target_center, problem.target_scale) == (2.5, 1.0)
