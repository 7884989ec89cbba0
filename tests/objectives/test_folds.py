"""Cross-validation folds: each fits its own preprocessing; the test split is never in one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from objectives import prepare
from objectives._folds import cv_folds, plan_folds, refit_fold
from spaces import ConfigError


def test_folds_cover_the_rows_outside_the_test_split_once_each() -> None:
    data = prepare("iris", seed=3)

    folds = cv_folds(data, 4, seed=3)

    assert [len(f.splits.x_val) for f in folds] == [30, 30, 30, 30]
    assert all(len(f.splits.x_train) == 90 for f in folds)
    validated = np.concatenate([f.splits.y_val.argmax(axis=1) for f in folds])
    assert np.bincount(validated).tolist() == np.bincount(data.rest["target"]).tolist()
    # Stratified: every fold's validation rows hold every class in the same share.
    assert all(np.bincount(f.splits.y_val.argmax(axis=1)).tolist() == [10, 10, 10] for f in folds)


def test_each_fold_fits_its_preprocessing_on_its_own_training_rows() -> None:
    data = prepare("wine", seed=0)

    folds = cv_folds(data, 3, seed=0)

    means = {round(f.preprocessor.numeric[0].mean, 9) for f in folds}
    assert len(means) == 3
    for fold in folds:
        # Standardised with its own statistics: its training rows have mean 0 and std 1.
        np.testing.assert_allclose(fold.splits.x_train.mean(axis=0), 0, atol=1e-5)
        np.testing.assert_allclose(fold.splits.x_train.std(axis=0), 1, atol=1e-3)


def test_regression_folds_each_standardise_their_own_targets() -> None:
    data = prepare("diabetes", seed=0)

    centers = {f.problem.target_center for f in cv_folds(data, 3, seed=0)}

    assert len(centers) == 3 and data.problem.target_center not in centers


def test_the_seed_decides_the_folds() -> None:
    data = prepare("iris", seed=0)

    def first_val(seed: int) -> np.ndarray:
        return cv_folds(data, 3, seed=seed)[0].splits.x_val

    np.testing.assert_array_equal(first_val(1), first_val(1))
    assert not np.array_equal(first_val(1), first_val(2))


def test_the_refit_trains_on_every_row_outside_the_test_split() -> None:
    data = prepare("iris", seed=0)

    fold = refit_fold(data)

    assert len(fold.splits.x_train) == len(data.rest) == 120
    assert len(fold.splits.x_val) == 0
    assert len(fold.splits.x_test) == len(data.splits.x_test) == 30


def _few(counts: dict[str, int]) -> pd.DataFrame:
    labels = [label for label, n in counts.items() for _ in range(n)]
    return pd.DataFrame({"x": np.arange(len(labels), dtype=float), "y": labels})


@pytest.mark.parametrize(
    ("requested", "k", "note"),
    [
        (3, 3, None),
        (10, 4, "cv lowered from 10 to 4: a class has only 4 rows"),
        (1, 1, None),
    ],
)
def test_k_drops_to_the_rarest_class(tmp_path, requested, k, note) -> None:
    path = tmp_path / "few.csv"
    _few({"a": 40, "b": 6}).to_csv(path, index=False)  # b: 4 or 5 rows outside the test split
    data = prepare(str(path), target="y", seed=0)
    rarest = int(data.rest["y"].value_counts().min())

    plan = plan_folds(data, requested)

    expected = min(requested, rarest)
    assert plan.k == expected
    assert plan.note == (None if requested <= rarest else note.replace("4", str(rarest)))


@pytest.mark.parametrize("requested", [0, -2, 121])
def test_k_must_be_between_1_and_the_rows_outside_the_test_split(requested: int) -> None:
    data = prepare("iris", seed=0)

    with pytest.raises(ConfigError, match=rf"cv must be between 1 and 120 .*cv={requested}\."):
        plan_folds(data, requested)
