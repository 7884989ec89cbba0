"""Training and scoring on tiny arrays: one or two epochs, a seed, no Optuna or MLflow."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf
from optuna.trial import FixedTrial

from objectives import (
    Splits,
    build_model,
    fresh_session,
    get_metric,
    predict,
    prepare,
    score,
    train_model,
    training_batches,
)
from objectives import _train as train_module
from spaces import SPACES, Problem, SpaceConfig, TrialFailed
from tests.objectives.tiny import binary_splits, dense_params


class _Epochs(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.seen.append(epoch)


def test_train_then_score(seed: int) -> None:
    splits = binary_splits()
    metric = get_metric("accuracy", "binary")
    model = build_model(dense_params(), Problem("binary", 3, 1), metric)
    epochs = _Epochs()
    history = train_model(model, splits, dense_params(), [epochs]).history
    assert epochs.seen == [0, 1]  # extra callbacks run
    assert set(history) == {"loss", "val_loss", "accuracy", "val_accuracy"}
    assert all(len(values) == 2 for values in history.values())
    value = score(model, splits.x_test, splits.y_test, metric, "binary")
    outputs = predict(model, splits.x_test)
    assert outputs.shape == (12, 1) and outputs.dtype == np.float64
    assert ((outputs >= 0) & (outputs <= 1)).all()  # sigmoid
    assert value == pytest.approx(float(np.mean((outputs >= 0.5) == (splits.y_test >= 0.5))))


def _epoch_orders(seed: int, epochs: int = 3) -> list[list[int]]:
    rows = np.arange(10, dtype="float32")[:, None]
    batches = training_batches(rows, rows, batch_size=4, seed=seed)
    orders = []
    for _ in range(epochs):
        sizes = [len(x) for x, _ in batches]
        assert sizes == [4, 4, 2]  # the last batch is the remainder, nothing is dropped
        orders.append([int(v) for x, _ in batches for v in x.numpy()[:, 0]])
    return orders


def test_training_batches_reshuffle_every_epoch_reproducibly() -> None:
    orders = _epoch_orders(seed=7)
    assert all(sorted(order) == list(range(10)) for order in orders)  # each row once
    assert len({tuple(order) for order in orders}) == len(orders)  # a new order each epoch
    assert _epoch_orders(seed=7) == orders
    assert _epoch_orders(seed=8) != orders


def test_training_batches_keep_inputs_and_targets_together() -> None:
    x = np.arange(12, dtype="float32").reshape(6, 2)
    y = x[:, :1] * 10
    for xs, ys in training_batches(x, y, batch_size=4, seed=0):
        np.testing.assert_array_equal(ys.numpy(), xs.numpy()[:, :1] * 10)


def test_large_training_splits_go_through_keras_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    splits = binary_splits()
    small = train_module._training_inputs(splits, 16)
    assert isinstance(small["x"], tf.data.Dataset) and small["shuffle"] is False
    monkeypatch.setattr(train_module, "DATASET_MAX_ROWS", len(splits.x_train) - 1)
    large = train_module._training_inputs(splits, 16)
    assert large["x"] is splits.x_train and large["y"] is splits.y_train
    assert large["batch_size"] == 16 and large["shuffle"] is True


@pytest.mark.parametrize("dataset_max_rows", [10_000, 0], ids=["dataset", "arrays"])
@pytest.mark.parametrize("eager_max_steps", [0, 10_000], ids=["traced", "eager"])
def test_the_same_seed_trains_the_same_model(
    eager_max_steps: int, dataset_max_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_module, "EAGER_MAX_STEPS", eager_max_steps)
    monkeypatch.setattr(train_module, "DATASET_MAX_ROWS", dataset_max_rows)
    splits = binary_splits(96)
    params = dense_params(epochs=3, dropout=0.2)

    def losses(seed: int) -> list[float]:
        fresh_session(seed)
        model = build_model(params, Problem("binary", 3, 1))
        trained = train_model(
            model, splits, params, metric=get_metric(None, "binary"), task="binary"
        )
        return trained.history["loss"]

    first = losses(3)
    assert losses(3) == first
    assert losses(4) != first


@pytest.mark.parametrize("dataset_max_rows", [10_000, 0], ids=["dataset", "arrays"])
def test_several_steps_per_execution_train_the_same_model(
    dataset_max_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_module, "EAGER_MAX_STEPS", 0)
    monkeypatch.setattr(train_module, "DATASET_MAX_ROWS", dataset_max_rows)
    # 13 batches an epoch: with 4 steps per execution the last execution runs one step.
    splits = binary_splits(400)
    params = dense_params(epochs=3, dropout=0.2)

    def trained(steps: int) -> tuple[list[float], list[np.ndarray]]:
        monkeypatch.setattr(train_module, "STEPS_PER_EXECUTION", steps)
        fresh_session(3)
        model = build_model(params, Problem("binary", 3, 1))
        history = train_model(model, splits, params).history
        assert model.steps_per_execution == steps
        return history["loss"], model.get_weights()

    one_loss, one_weights = trained(1)
    several_loss, several_weights = trained(4)
    np.testing.assert_allclose(several_loss, one_loss, rtol=1e-5)
    for several, one in zip(several_weights, one_weights, strict=True):
        np.testing.assert_allclose(several, one, rtol=1e-5, atol=1e-6)


def test_one_step_per_execution_where_eager_or_off_tensorflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert train_module.steps_per_execution(eager=False) == train_module.STEPS_PER_EXECUTION > 1
    assert train_module.steps_per_execution(eager=True) == 1
    # PyTorch refuses more than one; JAX gained too little (bench/README.md, Steps per call).
    monkeypatch.setattr(train_module, "uses_tensorflow", lambda: False)
    assert train_module.steps_per_execution(eager=False) == 1


@pytest.mark.parametrize("eager_max_steps", [10_000, 0], ids=["eager", "traced"])
def test_a_diverging_loss_fails_the_trial_quietly(
    seed: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    eager_max_steps: int,
) -> None:
    # Traced, the loss is seen once per execution of several steps: still caught.
    monkeypatch.setattr(train_module, "EAGER_MAX_STEPS", eager_max_steps)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 3)).astype("float32") * 1e3
    y = rng.normal(size=(32, 1)).astype("float32") * 1e6
    splits = Splits(x, y, x[:8], y[:8], x[:8], y[:8])
    params = dense_params(optimizer="sgd", learning_rate=10.0, loss="mse", batch_size=8)
    model = build_model(params, Problem("regression", 3, 1), get_metric(None, "regression"))
    capsys.readouterr()
    with pytest.raises(TrialFailed, match=r"^loss became (nan|inf) at epoch 0; training diverged$"):
        train_model(model, splits, params)
    # Keras's TerminateOnNaN printed "Batch N: Invalid loss", which broke the progress bar.
    assert capsys.readouterr().out == ""


def test_infinite_inputs_fail_the_trial(seed: int) -> None:
    splits = binary_splits()
    x_train = splits.x_train.copy()
    x_train[0, 0] = np.inf
    bad = Splits(
        x_train, *[getattr(splits, f) for f in ("y_train", "x_val", "y_val", "x_test", "y_test")]
    )
    model = build_model(dense_params(), Problem("binary", 3, 1), get_metric(None, "binary"))
    with pytest.raises(TrialFailed, match="loss became nan"):
        train_model(model, bad, dense_params(batch_size=32))


def test_nan_predictions_fail_the_trial() -> None:
    model = build_model(dense_params(), Problem("binary", 3, 1), get_metric(None, "binary"))
    output = model.get_layer("output")
    output.kernel.assign(np.full(output.kernel.shape, np.nan, "float32"))
    splits = binary_splits()
    with pytest.raises(TrialFailed, match="the model predicts NaN or infinite values"):
        score(model, splits.x_val, splits.y_val, get_metric(None, "binary"), "binary")


def test_predict_in_chunks_matches_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    model = build_model(dense_params(), Problem("binary", 3, 1), get_metric(None, "binary"))
    x = binary_splits().x_train
    whole = predict(model, x)
    monkeypatch.setattr(train_module, "PREDICT_BATCH", 5)
    np.testing.assert_allclose(predict(model, x), whole, rtol=1e-6)


def test_predict_nothing() -> None:
    model = build_model(dense_params(), Problem("multiclass", 3, 4), get_metric(None, "multiclass"))
    assert predict(model, np.zeros((0, 3), "float32")).shape == (0, 4)


def test_the_textbook_regression_beats_predicting_the_mean(seed: int) -> None:
    # Trained on raw diabetes scores (mean 152, std 77), this baseline scored an RMSE of
    # 156 on validation, worse than the mean; the model now standardises inside.
    data = prepare("diabetes")
    config = SpaceConfig()
    dense = SPACES["dense"]
    params = dense.suggest(FixedTrial(dense.baseline(data.problem, config)), data.problem, config)
    model = build_model(params, data.problem)
    metric = get_metric(None, "regression")
    history = train_model(model, data.splits, params, metric=metric, task="regression").history
    y_val = data.splits.y_val.astype(np.float64)
    assert history["val_rmse"][-1] < 0.85 * float(y_val.std())
    assert score(model, data.splits.x_val, data.splits.y_val, metric, "regression") == (
        pytest.approx(history["val_rmse"][-1])
    )
    # val_loss is weighted like the training loss: both on the standardised scale.
    assert history["val_loss"][-1] < 1.0 and history["loss"][-1] < 1.0


def _noisy_splits() -> Splits:
    # Three labels in ten flipped: validation accuracy rises, then wanders as the model
    # fits the noise, so the best epoch is rarely the last.
    rng = np.random.default_rng(5)
    x = rng.normal(size=(160, 4)).astype("float32")
    y = (x[:, :1] - x[:, 1:2] > 0).astype("float32")
    flip = rng.random(len(y)) < 0.3
    y[flip] = 1 - y[flip]
    return Splits(x[:80], y[:80], x[80:120], y[80:120], x[120:], y[120:])


def _train_noisy(keep: str, epochs: int = 14, validate: bool = True) -> tuple[Any, Any]:
    splits = _noisy_splits()
    if not validate:
        splits = Splits(splits.x_train, splits.y_train, splits.x_val[:0], splits.y_val[:0],
                        splits.x_test, splits.y_test)  # fmt: skip
    params = dense_params(n_layers=2, units_0=64, units_1=64, learning_rate=0.05, epochs=epochs)
    fresh_session(11)
    model = build_model(params, Problem("binary", 4, 1))
    if not validate:  # as a refit trains
        return model, train_model(model, splits, params, keep=keep)
    metric = get_metric(None, "binary")
    return model, train_model(model, splits, params, metric=metric, task="binary", keep=keep)


def test_keeping_the_best_epoch_restores_its_weights() -> None:
    model, trained = _train_noisy("best")

    accuracies = trained.history["val_accuracy"]
    assert trained.kept == accuracies.index(max(accuracies))  # the first of equal bests
    assert trained.kept < len(accuracies) - 1  # else this test would not test restoring
    splits = _noisy_splits()
    metric = get_metric(None, "binary")
    assert score(model, splits.x_val, splits.y_val, metric, "binary") == max(accuracies)
    assert trained.at_kept("val_accuracy") == max(accuracies)


def test_the_kept_weights_are_what_training_that_many_epochs_gives() -> None:
    # What a refit and a replay rely on: the same seed, trained for the kept epochs without
    # validation, ends with the weights the trial kept.
    kept_model, trained = _train_noisy("best")
    replayed, again = _train_noisy("best", epochs=trained.kept + 1, validate=False)

    assert again.kept == trained.kept  # unvalidated, the last epoch is kept
    for kept, weights in zip(kept_model.get_weights(), replayed.get_weights(), strict=True):
        # Equal to float rounding: a short training runs eagerly, a long one traced.
        np.testing.assert_allclose(kept, weights, rtol=0, atol=1e-6)


def test_keeping_the_last_epoch_keeps_it() -> None:
    model, trained = _train_noisy("last")

    assert trained.kept == len(trained.history["loss"]) - 1 == 13
    splits = _noisy_splits()
    value = score(model, splits.x_val, splits.y_val, get_metric(None, "binary"), "binary")
    assert value == trained.history["val_accuracy"][-1] == trained.at_kept("val_accuracy")
