"""Cross-validation folds of the non-test rows, and the refit split of all of them.

Each fold fits its own preprocessing (imputation, standardisation, per feature for
sequences, one-hot encoding, the regression target's scale) on its own training rows only, so no statistic of a fold's
validation rows reaches its model. The test split is the one `prepare` set aside; it is
scored once, by the refit model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.model_selection import KFold, StratifiedKFold

from objectives._data import PreparedData, Splits, split_arrays, target_standardisation
from objectives._preprocess import Preprocessor
from spaces import ConfigError, Problem

MIN_FOLDS = 2


@dataclass(frozen=True)
class Fold:
    """One model's data: its splits, its problem (widths, target scale), its preprocessing."""

    splits: Splits
    problem: Problem
    preprocessor: Preprocessor


@dataclass(frozen=True)
class FoldPlan:
    """How many folds a study uses, and why when that is not what was asked."""

    k: int
    note: str | None = None


def plan_folds(data: PreparedData, requested: int) -> FoldPlan:
    """The folds a study can use: K drops to the rarest class's rows outside the test split.

    Raises:
        ConfigError: K is not positive, or exceeds the rows outside the test split.
    """
    rows = len(data.rest)
    if requested < 1 or requested > rows:
        raise ConfigError(
            f"cv must be between 1 and {rows} (the rows outside the test split), "
            f"but got cv={requested}."
        )
    rarest = _rarest_class(data)
    if requested == 1 or rarest is None or rarest >= requested:
        return FoldPlan(requested)
    if rarest < MIN_FOLDS:
        return FoldPlan(1, f"a class has {rarest} row(s) outside the test split; one split used")
    return FoldPlan(
        rarest, f"cv lowered from {requested} to {rarest}: a class has only {rarest} rows"
    )


def cv_folds(data: PreparedData, k: int, seed: int) -> list[Fold]:
    """K folds of the rows outside the test split (stratified for classes), seeded."""
    rest = data.rest
    labels = _class_labels(data)
    if labels is not None:
        indices = StratifiedKFold(k, shuffle=True, random_state=seed).split(rest, labels)
    else:
        indices = KFold(k, shuffle=True, random_state=seed).split(rest)
    return [_fold(data, rest.iloc[train], rest.iloc[val]) for train, val in indices]


def refit_fold(data: PreparedData) -> Fold:
    """Every row outside the test split for training, nothing for validation, and the test."""
    return _fold(data, data.rest, data.rest.iloc[0:0])


def _fold(data: PreparedData, train: pd.DataFrame, val: pd.DataFrame) -> Fold:
    features = train[data.preprocessor.columns]
    preprocessor = Preprocessor.fit(features)
    encoding = data.encoding
    x_train, y_train = split_arrays(train, preprocessor, encoding)
    # The refit has no validation rows; empty arrays keep the shapes the splits promise.
    x_val, y_val = (
        (x_train[:0], y_train[:0]) if val.empty else split_arrays(val, preprocessor, encoding)
    )
    x_test, y_test = split_arrays(data.test, preprocessor, encoding)
    splits = Splits(x_train, y_train, x_val, y_val, x_test, y_test)
    # Images and sequences are all numeric, so their width and shape stay the data's.
    problem = replace(
        data.problem,
        n_inputs=preprocessor.width,
        **{
            "target_center": 0.0,
            "target_scale": 1.0,
            **target_standardisation(y_train, encoding.task),
        },
    )
    return Fold(splits, problem, preprocessor)


def _class_labels(data: PreparedData) -> pd.Series | None:
    if data.encoding.task not in ("binary", "multiclass"):
        return None
    return data.rest[data.encoding.columns[0]]


def _rarest_class(data: PreparedData) -> int | None:
    labels = _class_labels(data)
    if labels is None:
        return None
    counts = labels.value_counts()
    return int(np.min(counts[counts > 0]))
