"""Task inference from the target (the lecture's table picks the rest) and target encodings."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from objectives import TargetEncoding, infer_task
from spaces import ConfigError, DataError


def _target(values: list[Any], name: str = "y") -> pd.DataFrame:
    return pd.DataFrame({name: values})


def test_two_integer_values_are_binary() -> None:
    encoding, reason = infer_task(_target([0, 1, 1, 0, 1]))
    assert encoding == TargetEncoding("binary", ("y",), (0, 1))
    assert encoding.n_outputs == 1
    assert reason == "target 'y' has 2 distinct values (0, 1) -> binary"


def test_a_few_integer_values_are_multiclass() -> None:
    encoding, reason = infer_task(_target([0, 1, 2, 3, 4, 5, 6, 2]))
    assert encoding.task == "multiclass"
    assert encoding.classes == (0, 1, 2, 3, 4, 5, 6)
    assert encoding.n_outputs == 7
    assert reason == "target 'y' has 7 distinct values (0, 1, 2, 3, 4, ...) -> multiclass"


def test_fractional_values_are_regression() -> None:
    encoding, reason = infer_task(_target([0.5, 1.25, 3.0, 2.0]))
    assert encoding == TargetEncoding("regression", ("y",))
    assert encoding.n_outputs == 1
    assert reason == "target 'y' has non-integer numeric values (4 distinct) -> regression"


def test_many_distinct_integers_are_regression() -> None:
    encoding, reason = infer_task(_target(list(range(100))))
    assert encoding.task == "regression"
    assert "many distinct numeric values (100 distinct)" in reason


def test_twenty_integer_values_are_still_classes() -> None:
    assert infer_task(_target(list(range(20))))[0].task == "multiclass"
    assert infer_task(_target(list(range(21))))[0].task == "regression"


def test_string_labels_are_classes_sorted() -> None:
    encoding, _ = infer_task(_target(["dog", "cat", "dog"]))
    assert encoding == TargetEncoding("binary", ("y",), ("cat", "dog"))
    encoding, _ = infer_task(_target(["eel", "cat", "dog", "cat"]))
    assert encoding == TargetEncoding("multiclass", ("y",), ("cat", "dog", "eel"))


def test_boolean_labels_are_binary() -> None:
    encoding, _ = infer_task(_target([True, False, True]))
    assert encoding == TargetEncoding("binary", ("y",), (False, True))


def test_several_zero_one_columns_are_multilabel() -> None:
    target = pd.DataFrame({"a": [0, 1, 1], "b": [1, 1, 0], "c": [0.0, 0.0, 1.0]})
    encoding, reason = infer_task(target)
    assert encoding == TargetEncoding("multilabel", ("a", "b", "c"))
    assert encoding.n_outputs == 3
    assert reason == "3 0/1 target columns -> multilabel"


def test_multilabel_columns_must_be_zero_or_one() -> None:
    target = pd.DataFrame({"a": [0, 1, 1], "b": [1, 2, 0]})
    with pytest.raises(DataError) as info:
        infer_task(target)
    assert str(info.value) == (
        "multi-label target column 'b' must hold only 0 and 1; give one 0/1 column per label."
    )


@pytest.mark.parametrize(
    ("values", "forced", "task", "n_outputs"),
    [
        ([0, 1, 0, 1], "multiclass", "multiclass", 2),
        ([0, 1, 2, 1], "regression", "regression", 1),
        ([0.5, 1.5, 0.5, 1.5], "binary", "binary", 1),
        ([0, 1, 0, 1], "multilabel", "multilabel", 1),
        (list(range(30)), "multiclass", "multiclass", 30),
    ],
)
def test_task_override(values: list[Any], forced: str, task: str, n_outputs: int) -> None:
    encoding, reason = infer_task(_target(values), forced)
    assert encoding.task == task
    assert encoding.n_outputs == n_outputs
    assert reason == f"--task {forced} was given" + (
        " -> multilabel" if task == "multilabel" else ""
    )


def test_override_with_an_unknown_task_lists_the_tasks() -> None:
    with pytest.raises(ConfigError) as info:
        infer_task(_target([0, 1]), "ranking")
    assert str(info.value) == (
        "'ranking' is not a valid task. Use one of: binary, multiclass, multilabel, regression."
    )


def test_binary_override_needs_two_classes() -> None:
    with pytest.raises(ConfigError, match="--task binary needs 2 classes, but target has 3"):
        infer_task(_target([0, 1, 2]), "binary")


@pytest.mark.parametrize("forced", ["regression", "binary", "multiclass"])
def test_single_label_override_with_several_targets_is_refused(forced: str) -> None:
    # It used to be ignored silently: two target columns always became multi-label.
    target = pd.DataFrame({"a": [0, 1], "b": [1, 0]})
    with pytest.raises(ConfigError) as info:
        infer_task(target, forced)
    assert str(info.value) == (
        f"--task {forced} needs one target column, but got 2 (a, b); "
        "drop --task or give one --target."
    )


@pytest.mark.parametrize("values", [[1, 1, 1], ["yes", "yes"], [2.0, 2.0]])
def test_a_single_class_is_refused(values: list[Any]) -> None:
    with pytest.raises(DataError) as info:
        infer_task(_target(values, "label"))
    assert str(info.value) == (
        f"target 'label' has a single class ({values[0]!r}); classification needs at least two. "
        "Check the --target column."
    )


def test_a_single_class_is_refused_even_when_forced() -> None:
    with pytest.raises(DataError, match="has a single class"):
        infer_task(_target(["a", "a"]), "multiclass")


@pytest.mark.parametrize("values", [["a", "b", "c"], [True, False, True]])
def test_a_non_numeric_target_cannot_be_regression(values: list[Any]) -> None:
    with pytest.raises(DataError) as info:
        infer_task(_target(values, "kind"), "regression")
    assert str(info.value) == (
        "target 'kind' is not numeric, so it cannot be a regression target; "
        "drop --task regression or choose a numeric --target."
    )


@pytest.mark.parametrize("forced", [None, "regression"])
def test_an_infinite_regression_target_is_refused(forced: str | None) -> None:
    # An infinite target made every trial's loss infinite; it is a data problem.
    with pytest.raises(DataError, match="regression target 'y' holds infinite values"):
        infer_task(_target([0.5, np.inf, 1.5, 2.5]), forced)


def test_binary_encoding_and_decoding() -> None:
    target = _target(["no", "yes", "yes", "no"])
    encoding, _ = infer_task(target)
    encoded = encoding.encode(target)
    assert encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded, [[0], [1], [1], [0]])
    assert encoding.decode(np.array([[0.2], [0.7], [0.5], [0.49]])) == ["no", "yes", "yes", "no"]


def test_multiclass_encoding_is_one_hot_and_decodes_by_argmax() -> None:
    target = _target([2, 0, 1, 2])
    encoding, _ = infer_task(target, "multiclass")
    np.testing.assert_array_equal(encoding.encode(target), np.eye(3)[[2, 0, 1, 2]])
    assert encoding.decode(np.array([[0.1, 0.2, 0.7], [0.8, 0.1, 0.1]])) == [2, 0]


def test_regression_encoding_is_a_column() -> None:
    target = _target([0.5, 1.5, 2.5])
    encoding, _ = infer_task(target)
    np.testing.assert_array_equal(encoding.encode(target), [[0.5], [1.5], [2.5]])
    assert encoding.decode(np.array([[1.0], [2.0]])) == [1.0, 2.0]


def test_multilabel_encoding_and_decoding() -> None:
    target = pd.DataFrame({"a": [0, 1], "b": [1, 1]})
    encoding, _ = infer_task(target)
    np.testing.assert_array_equal(encoding.encode(target), [[0, 1], [1, 1]])
    assert encoding.decode(np.array([[0.1, 0.9], [0.6, 0.7], [0.0, 0.0]])) == ["b", "a,b", ""]


def test_a_regression_target_beyond_float32_is_refused() -> None:
    # Found by the property tests: 3.5e38 is finite in the file and infinite in training.
    with pytest.raises(DataError, match=r"holds values too large for float32 \(up to 3.5e\+38\)"):
        infer_task(_target([0.5, 3.5e38, 1.5]))
    assert infer_task(_target([0.5, 3.4e38, 1.5]))[0].task == "regression"


def test_a_numeric_target_with_stray_text_is_named() -> None:
    # Read as text, it used to become hundreds of classes and fail on "class has only 1 row".
    values: list[Any] = [f"{v / 4}" for v in range(40)] + ["-"]
    with pytest.raises(DataError) as info:
        infer_task(_target(values, "price"))
    assert str(info.value) == (
        "target 'price' is numeric except for values such as '-'; fix or drop those rows, "
        "or pass --task multiclass if they are classes."
    )
    assert infer_task(_target(values, "price"), "multiclass")[0].n_outputs == 41


def test_many_text_classes_stay_classes() -> None:
    values = [f"k{i}" for i in range(30)] + ["1", "2"]
    assert infer_task(_target(values))[0].task == "multiclass"


def test_numbers_stored_as_text_are_not_refused() -> None:
    values = [str(v) for v in range(30)]  # e.g. a Parquet string column
    assert infer_task(_target(values))[0].task == "multiclass"
