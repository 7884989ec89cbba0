"""Objective metrics: independent of the searched loss, so trials stay comparable."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from spaces import ConfigError, TrialFailed, check_choice

CLASSIFICATION = ("binary", "multiclass", "multilabel")
REGRESSION = ("regression",)


@dataclass(frozen=True)
class Metric:
    """One objective: its direction, the tasks it applies to, and two ways to compute it.

    `keras` builds the per-epoch metric that Keras reports as `val_<name>` (for pruning and
    curves); `score` is the exact value on a split, used for the trial's final value.
    """

    name: str
    direction: str
    tasks: tuple[str, ...]
    keras: Callable[[str], keras.metrics.Metric]
    score: Callable[[np.ndarray, np.ndarray, str], float]


def _labels(y: np.ndarray, task: str) -> np.ndarray:
    return y.argmax(axis=1) if task == "multiclass" else (y >= 0.5).astype(int)


def _accuracy(y: np.ndarray, p: np.ndarray, task: str) -> float:
    return float(np.mean(_labels(y, task) == _labels(p, task)))


def _f1(y: np.ndarray, p: np.ndarray, task: str) -> float:
    average = "binary" if task == "binary" else "macro"
    truth, guess = _labels(y, task), _labels(p, task)
    if task == "binary":
        truth, guess = truth.ravel(), guess.ravel()
    return float(skm.f1_score(truth, guess, average=average, zero_division=0))


def _auc(y: np.ndarray, p: np.ndarray, task: str) -> float:
    # scikit-learn 1.9 returns NaN (with a warning) where older releases raised.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        try:
            value = float(skm.roc_auc_score(y, p, average="macro"))
        except ValueError as exc:
            raise TrialFailed(f"AUC is undefined on this split: {exc}") from exc
    if not math.isfinite(value):
        raise TrialFailed(
            "AUC is undefined on this split: a class or label has only positive or only "
            "negative rows; choose --metric accuracy or f1."
        )
    return value


def _keras_accuracy(task: str) -> keras.metrics.Metric:
    if task == "multiclass":
        return keras.metrics.CategoricalAccuracy(name="accuracy")
    return keras.metrics.BinaryAccuracy(name="accuracy")


def _keras_f1(task: str) -> keras.metrics.Metric:
    threshold = None if task == "multiclass" else 0.5
    return keras.metrics.F1Score(average="macro", threshold=threshold, name="f1")


METRICS: dict[str, Metric] = {
    "accuracy": Metric("accuracy", "maximize", CLASSIFICATION, _keras_accuracy, _accuracy),
    "auc": Metric(
        "auc",
        "maximize",
        CLASSIFICATION,
        lambda task: keras.metrics.AUC(name="auc", multi_label=task != "binary"),
        _auc,
    ),
    "f1": Metric("f1", "maximize", CLASSIFICATION, _keras_f1, _f1),
    "rmse": Metric(
        "rmse",
        "minimize",
        REGRESSION,
        lambda task: keras.metrics.RootMeanSquaredError(name="rmse"),
        lambda y, p, task: float(np.sqrt(np.mean((y - p) ** 2))),
    ),
    "mae": Metric(
        "mae",
        "minimize",
        REGRESSION,
        lambda task: keras.metrics.MeanAbsoluteError(name="mae"),
        lambda y, p, task: float(np.mean(np.abs(y - p))),
    ),
    "mape": Metric(
        "mape",
        "minimize",
        REGRESSION,
        lambda task: keras.metrics.MeanAbsolutePercentageError(name="mape"),
        lambda y, p, task: float(100 * np.mean(np.abs((y - p) / np.maximum(np.abs(y), 1e-7)))),
    ),
}

DEFAULT_METRIC: dict[str, str] = {
    "regression": "rmse",
    "binary": "accuracy",
    "multiclass": "accuracy",
    "multilabel": "accuracy",
}


def get_metric(name: str | None, task: str) -> Metric:
    """The named metric (or the task's default), checked against the task."""
    name = name or DEFAULT_METRIC[task]
    check_choice("metric", name, METRICS)
    metric = METRICS[name]
    if task not in metric.tasks:
        valid = sorted(n for n, m in METRICS.items() if task in m.tasks)
        raise ConfigError(
            f"metric '{name}' does not apply to a {task} task. Use one of: {', '.join(valid)}."
        )
    return metric
