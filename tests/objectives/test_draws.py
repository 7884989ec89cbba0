"""Averaging trained models into one, and the refit's draws of one configuration."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from objectives import (
    DRAWS,
    Splits,
    average_models,
    build_model,
    fresh_session,
    predict,
    train_draws,
    train_model,
)
from objectives._draws import DRAW_STRIDE
from spaces import Problem
from tests.objectives.tiny import binary_splits, dense_params

PROBLEM = Problem("binary", 3, 1)
PARAMS = dense_params()


def _trained(seed: int, splits: Splits) -> keras.Model:
    fresh_session(seed)
    model = build_model(PARAMS, PROBLEM, family="dense")
    train_model(model, splits, PARAMS)
    return model


def test_the_average_outputs_the_mean_of_its_models() -> None:
    splits = binary_splits()
    models = [_trained(seed, splits) for seed in (1, 2, 3)]
    averaged = average_models(models, name="refit")
    expected = np.mean([predict(m, splits.x_test) for m in models], axis=0)
    np.testing.assert_allclose(predict(averaged, splits.x_test), expected, rtol=1e-5, atol=1e-6)
    assert averaged.name == "refit"


def test_one_model_is_returned_as_it_is() -> None:
    model = _trained(1, binary_splits())
    assert average_models([model]) is model


def test_no_model_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one model"):
        average_models([])


def test_an_average_saves_and_loads_in_safe_mode(tmp_path: Path) -> None:
    splits = binary_splits()
    averaged = average_models([_trained(seed, splits) for seed in (1, 2)])
    path = tmp_path / "averaged.keras"
    averaged.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        predict(loaded, splits.x_test), predict(averaged, splits.x_test), rtol=1e-6
    )


def test_draws_average_one_model_per_seed_the_first_with_the_seed_given() -> None:
    splits = binary_splits()
    model = train_draws(PARAMS, PROBLEM, splits, "dense", seed=7)
    nested = [layer.name for layer in model.layers if isinstance(layer, keras.Model)]
    assert nested == [f"draw_{k}" for k in range(DRAWS)]
    draws = [_trained(7 + k * DRAW_STRIDE, splits) for k in range(DRAWS)]
    first = model.get_layer("draw_0")
    np.testing.assert_allclose(
        predict(first, splits.x_test), predict(draws[0], splits.x_test), rtol=1e-5, atol=1e-6
    )
    expected = np.mean([predict(m, splits.x_test) for m in draws], axis=0)
    np.testing.assert_allclose(predict(model, splits.x_test), expected, rtol=1e-5, atol=1e-6)


def test_one_draw_is_the_single_model_a_seed_trains() -> None:
    splits = binary_splits()
    model = train_draws(PARAMS, PROBLEM, splits, "dense", seed=7, draws=1)
    single = _trained(7, splits)
    np.testing.assert_allclose(
        predict(model, splits.x_test), predict(single, splits.x_test), rtol=1e-5, atol=1e-6
    )
