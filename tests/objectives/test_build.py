"""Model building from a parameter dict: the table's output layer, the params' hidden layers."""

from __future__ import annotations

from typing import Any

import keras
import pytest

from objectives import BUILDERS, OPTIMIZERS, build_model, get_metric, make_optimizer
from objectives._build import loss_weight
from spaces import OPTIMIZERS as SPACE_OPTIMIZERS
from spaces import TASK_TABLE, TASKS, ConfigError, Problem

WIDTHS = {"regression": 1, "binary": 1, "multiclass": 4, "multilabel": 3}


def _params(**overrides: Any) -> dict[str, Any]:
    params = {
        "n_layers": 3,
        "units_0": 32,
        "units_1": 16,
        "units_2": 8,
        "initializer": "he_uniform",
        "activation": "elu",
        "dropout": 0.2,
        "optimizer": "rmsprop",
        "learning_rate": 0.005,
        "batch_size": 16,
        "epochs": 1,
        "loss": "mse",
    }
    return {**params, **overrides}


def _build(task: str, **overrides: Any) -> keras.Model:
    loss = TASK_TABLE[task].loss
    problem = Problem(task, n_inputs=6, n_outputs=WIDTHS[task])
    return build_model(_params(loss=loss, **overrides), problem, get_metric(None, task))


@pytest.mark.parametrize("task", TASKS)
def test_output_layer_follows_the_task_table(task: str) -> None:
    output = _build(task).get_layer("output")
    assert output.units == WIDTHS[task]
    assert output.activation.__name__ == TASK_TABLE[task].output_activation


@pytest.mark.parametrize("task", TASKS)
def test_model_is_compiled_with_the_params_loss_and_the_objective(task: str) -> None:
    model = _build(task)
    config = model.get_compile_config()
    assert config["loss"] == TASK_TABLE[task].loss
    # The objective is compiled in, under its own name, so Keras logs val_<name>.
    assert [m["config"]["name"] for m in config["metrics"]] == [get_metric(None, task).name]
    assert model.input_shape == (None, 6)
    assert model.output_shape == (None, WIDTHS[task])


def test_hidden_layers_are_as_the_params_say() -> None:
    model = _build("binary")
    hidden = [layer for layer in model.layers if layer.name.startswith("hidden_")]
    assert [layer.units for layer in hidden] == [32, 16, 8]
    for layer in hidden:
        assert layer.activation.__name__ == "elu"
        assert type(layer.kernel_initializer).__name__ == "HeUniform"
    dropouts = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [layer.rate for layer in dropouts] == [0.2, 0.2, 0.2]
    # 6*32+32 + 32*16+16 + 16*8+8 + 8*1+1 weights
    assert model.count_params() == 224 + 528 + 136 + 9


def test_no_dropout_layer_when_dropout_is_zero() -> None:
    model = _build("regression", n_layers=1, dropout=0.0)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert [layer.name for layer in model.layers] == ["hidden_0", "output"]


def test_units_beyond_n_layers_are_ignored() -> None:
    assert (
        len([layer for layer in _build("binary", n_layers=2).layers if "hidden" in layer.name]) == 2
    )


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("adam", keras.optimizers.Adam),
        ("adamw", keras.optimizers.AdamW),
        ("sgd", keras.optimizers.SGD),
        ("rmsprop", keras.optimizers.RMSprop),
        ("nadam", keras.optimizers.Nadam),
    ],
)
def test_optimizer_registry(name: str, cls: type[keras.optimizers.Optimizer]) -> None:
    optimizer = make_optimizer(name, 0.02)
    assert type(optimizer) is cls
    assert float(optimizer.learning_rate) == pytest.approx(0.02)


def test_sgd_has_momentum() -> None:
    assert make_optimizer("sgd", 0.1).momentum == 0.9


def test_every_optimizer_the_space_offers_can_be_built() -> None:
    assert set(SPACE_OPTIMIZERS) == set(OPTIMIZERS)


def test_the_compiled_optimizer_is_the_params_one() -> None:
    model = _build("binary", optimizer="nadam", learning_rate=0.003)
    assert type(model.optimizer) is keras.optimizers.Nadam
    assert float(model.optimizer.learning_rate) == pytest.approx(0.003)


def test_unknown_optimizer_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        make_optimizer("adagrad", 0.1)
    assert str(info.value) == (
        "'adagrad' is not a valid optimizer. Use one of: adam, adamw, nadam, rmsprop, sgd."
    )


def test_unknown_family_lists_the_builders() -> None:
    with pytest.raises(
        ConfigError, match=r"'lstm' is not a valid model family\. Use one of: cnn, dense, rnn\."
    ):
        build_model(_params(), Problem("regression", 6, 1), get_metric(None, "regression"), "lstm")


def test_every_builder_serves_a_space() -> None:
    from spaces import SPACES

    assert set(BUILDERS) == {family.builder for family in SPACES.values()}


def test_a_regression_model_predicts_in_target_units_from_the_start(seed: int) -> None:
    problem = Problem(
        "regression", n_inputs=6, n_outputs=1, target_center=1000.0, target_scale=10.0
    )
    model = build_model(_params(dropout=0.0), problem)
    assert model.layers[-1].name == "target_units"
    assert model.get_layer("output").activation.__name__ == "linear"
    outputs = keras.ops.convert_to_numpy(model(keras.random.normal((64, 6), seed=1)))
    # An untrained network's standardised output is small; in target units it is near 1000.
    assert abs(float(outputs.mean()) - 1000.0) < 30.0


@pytest.mark.parametrize(("loss", "weight"), [("mse", 0.01), ("mae", 0.1), ("huber", 0.1),
                                              ("log_cosh", 0.1), ("mape", 1.0)])  # fmt: skip
def test_regression_losses_are_weighted_back_to_the_standardised_scale(
    loss: str, weight: float
) -> None:
    problem = Problem("regression", n_inputs=6, n_outputs=1, target_center=5.0, target_scale=10.0)
    assert loss_weight(loss, problem) == pytest.approx(weight)
    model = build_model(_params(loss=loss), problem)
    assert model.get_compile_config()["loss_weights"] == pytest.approx(weight)


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_classification_models_are_not_rescaled(task: str) -> None:
    model = _build(task)
    assert model.layers[-1].name == "output"
    assert loss_weight(TASK_TABLE[task].loss, Problem(task, 6, WIDTHS[task])) == 1.0


def test_a_problem_refuses_a_non_positive_target_scale() -> None:
    with pytest.raises(ValueError, match="target_scale must be positive"):
        Problem("regression", n_inputs=2, n_outputs=1, target_scale=0.0)


def _cnn_params(**overrides: Any) -> dict[str, Any]:
    blocks = {"conv_layers": 2, "filters_0": 8, "filters_1": 16, "kernel_size": 3}
    return _params(**{**blocks, **overrides})


@pytest.mark.parametrize("task", TASKS)
def test_a_cnn_folds_the_rows_into_images_and_ends_like_the_table_says(task: str) -> None:
    problem = Problem(task, n_inputs=48, n_outputs=WIDTHS[task], image_shape=(4, 4, 3))
    model = build_model(_cnn_params(loss=TASK_TABLE[task].loss), problem, family="cnn")
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[:5] == ["Reshape", "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D"]
    assert kinds[5] == "Flatten"
    assert model.get_layer("conv_1").filters == 16
    assert model.get_layer("conv_0").kernel_size == (3, 3)
    assert model.output_shape == (None, WIDTHS[task])
    assert model.get_layer("output").activation.__name__ == TASK_TABLE[task].output_activation
    assert model(keras.ops.zeros((2, 48))).shape == (2, WIDTHS[task])


def test_a_cnn_needs_the_image_shape() -> None:
    with pytest.raises(ConfigError, match="the cnn family needs images"):
        build_model(_cnn_params(), Problem("binary", 48, 1), family="cnn")
