"""Objective metrics: every registry entry against a value worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from objectives import DEFAULT_METRIC, METRICS, get_metric
from spaces import TASKS, ConfigError, TrialFailed

_Y3 = np.eye(3)[[0, 1, 2, 1]]
_P3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.2, 0.6], [0.1, 0.8, 0.1]])  # 0, 2, 2, 1
_Y_AUC3 = np.eye(3)[[0, 1, 2, 0, 1, 2]]
_P_AUC3 = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.1, 0.8, 0.1],
        [0.1, 0.1, 0.8],
        [0.6, 0.3, 0.1],
        [0.3, 0.6, 0.1],
        [0.5, 0.4, 0.1],
    ]
)

# (metric, task, y, p, value by hand)
CASES = [
    # labels 1, 0, 0, 1 against 1, 0, 1, 1
    ("accuracy", "binary", [[1], [0], [1], [1]], [[0.9], [0.2], [0.4], [0.6]], 3 / 4),
    ("accuracy", "multiclass", _Y3, _P3, 3 / 4),
    # element by element: right, wrong, wrong, right
    ("accuracy", "multilabel", [[1, 0], [0, 1]], [[0.9, 0.6], [0.8, 0.7]], 2 / 4),
    # pairs (positive, negative): .35 < .4 is the one of four ranked wrong
    ("auc", "binary", [[0], [0], [1], [1]], [[0.1], [0.4], [0.35], [0.8]], 3 / 4),
    # class 0 and 1 ranked perfectly; class 2's second positive ties four negatives: 6/8
    ("auc", "multiclass", _Y_AUC3, _P_AUC3, (1 + 1 + 0.75) / 3),
    # tp 2, fp 0, fn 1: precision 1, recall 2/3
    ("f1", "binary", [[1], [0], [1], [1]], [[0.9], [0.2], [0.4], [0.6]], 0.8),
    # per class: 1, 2/3, 2/3
    ("f1", "multiclass", _Y3, _P3, (1 + 2 / 3 + 2 / 3) / 3),
    # label a: tp 1 fn 1 -> 2/3; label b: tp 2 fp 1 -> 0.8
    (
        "f1",
        "multilabel",
        [[1, 0], [0, 1], [1, 1]],
        [[0.9, 0.7], [0.1, 0.8], [0.3, 0.6]],
        (2 / 3 + 0.8) / 2,
    ),
    ("rmse", "regression", [[1], [2], [3]], [[2], [2], [5]], math.sqrt(5 / 3)),
    ("mae", "regression", [[1], [2], [3]], [[2], [2], [5]], 1.0),
    ("mape", "regression", [[1], [2], [3]], [[2], [2], [5]], 100 * (1 + 0 + 2 / 3) / 3),
]


def test_every_metric_has_a_hand_computed_case() -> None:
    assert {case[0] for case in CASES} == set(METRICS)


@pytest.mark.parametrize(("name", "task", "y", "p", "expected"), CASES)
def test_score_matches_the_hand_value(
    name: str, task: str, y: list, p: list, expected: float
) -> None:
    value = METRICS[name].score(np.asarray(y, float), np.asarray(p, float), task)
    assert isinstance(value, float)
    assert value == pytest.approx(expected)


@pytest.mark.parametrize(("name", "task", "y", "p", "expected"), CASES)
def test_keras_metric_agrees_and_is_named_for_pruning(
    name: str, task: str, y: list, p: list, expected: float
) -> None:
    # Pruning and curves read `val_<name>` from Keras; it must be the same quantity.
    metric = METRICS[name].keras(task)
    assert metric.name == name
    metric.update_state(np.asarray(y, "float32"), np.asarray(p, "float32"))
    tolerance = 0.02 if name == "auc" else 1e-5  # Keras's AUC integrates over thresholds
    assert float(metric.result()) == pytest.approx(expected, abs=tolerance)


@pytest.mark.parametrize(
    ("name", "direction"),
    [
        ("accuracy", "maximize"),
        ("auc", "maximize"),
        ("f1", "maximize"),
        ("rmse", "minimize"),
        ("mae", "minimize"),
        ("mape", "minimize"),
    ],
)
def test_direction_follows_from_the_metric(name: str, direction: str) -> None:
    assert METRICS[name].direction == direction


@pytest.mark.parametrize("task", TASKS)
def test_defaults_are_accuracy_and_rmse(task: str) -> None:
    expected = "rmse" if task == "regression" else "accuracy"
    assert DEFAULT_METRIC[task] == expected
    assert get_metric(None, task) is METRICS[expected]


def test_classification_metrics_do_not_apply_to_regression() -> None:
    with pytest.raises(ConfigError) as info:
        get_metric("accuracy", "regression")
    assert str(info.value) == (
        "metric 'accuracy' does not apply to a regression task. Use one of: mae, mape, rmse."
    )


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_regression_metrics_do_not_apply_to_classification(task: str) -> None:
    with pytest.raises(
        ConfigError,
        match=f"metric 'rmse' does not apply to a {task} task. Use one of: accuracy, auc, f1.",
    ):
        get_metric("rmse", task)


def test_an_unknown_metric_lists_the_metrics() -> None:
    with pytest.raises(ConfigError) as info:
        get_metric("r2", "regression")
    assert (
        str(info.value)
        == "'r2' is not a valid metric. Use one of: accuracy, auc, f1, mae, mape, rmse."
    )


def test_auc_of_a_single_class_split_fails_the_trial() -> None:
    with pytest.raises(TrialFailed, match="AUC is undefined on this split"):
        METRICS["auc"].score(np.ones((4, 1)), np.full((4, 1), 0.5), "binary")


def test_auc_of_a_constant_label_fails_the_trial() -> None:
    # scikit-learn 1.9 gives NaN here rather than raising; the trial still fails with a reason.
    y = np.array([[1, 0], [0, 0], [1, 0]], float)
    with pytest.raises(TrialFailed, match="choose --metric accuracy or f1"):
        METRICS["auc"].score(y, np.full((3, 2), 0.5), "multilabel")
