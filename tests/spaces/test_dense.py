"""The dense family, driven with optuna.trial.FixedTrial: no study, no training."""

from __future__ import annotations

import math
import warnings
from typing import Any

import optuna
import pytest

from spaces import (
    TASK_TABLE,
    TASKS,
    ConfigError,
    Problem,
    SpaceConfig,
    units_range,
    valid_losses,
)
from spaces._dense import dense_baseline, dense_space, task_losses

PROBLEMS = {
    "regression": Problem("regression", n_inputs=10, n_outputs=1, min_abs_target=2.0),
    "binary": Problem("binary", n_inputs=30, n_outputs=1),
    "multiclass": Problem("multiclass", n_inputs=4, n_outputs=3),
    "multilabel": Problem("multilabel", n_inputs=12, n_outputs=5),
}
COMMON = (
    "n_layers",
    "initializer",
    "activation",
    "dropout",
    "optimizer",
    "learning_rate",
    "batch_size",
    "epochs",
    "loss",
)


def _low(task: str) -> int:
    return int(math.log2(units_range(PROBLEMS[task].n0)[0]))


def _fixed(task: str, n_layers: int, **overrides: Any) -> dict[str, Any]:
    params = {
        "n_layers": n_layers,
        **{f"log2_units_{i}": _low(task) + i for i in range(n_layers)},
        "initializer": "he_normal",
        "activation": "tanh",
        "dropout": 0.25,
        "optimizer": "rmsprop",
        "learning_rate": 0.01,
        "batch_size": 64,
        "epochs": 7,
        "loss": valid_losses(task, 2.0)[-1],
    }
    return {**params, **overrides}


def _suggest(
    fixed: dict[str, Any], problem: Problem, config: SpaceConfig | None = None
) -> tuple[dict[str, Any], optuna.trial.FixedTrial]:
    """Run the space on fixed values; FixedTrial only warns when a number is out of range."""
    trial = optuna.trial.FixedTrial(fixed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        params = dense_space(trial, problem, config or SpaceConfig())  # type: ignore[arg-type]
    return params, trial


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("n_layers", [1, 2, 3])
def test_space_gives_a_plain_dict_with_stable_names(task: str, n_layers: int) -> None:
    fixed = _fixed(task, n_layers)
    params, trial = _suggest(fixed, PROBLEMS[task])
    assert type(params) is dict
    assert list(params) == [
        "n_layers",
        *(f"units_{i}" for i in range(n_layers)),
        "activation",
        "dropout",
        "initializer",
        *COMMON[4:],
    ]
    assert params["n_layers"] == n_layers
    widths = [params[f"units_{i}"] for i in range(n_layers)]
    assert widths == [2 ** (_low(task) + i) for i in range(n_layers)]
    for name in COMMON[1:]:
        assert params[name] == fixed[name], name
    assert all(type(v) in (int, float, str) for v in params.values())
    # Optuna records the exponents; the real widths are what the dict carries.
    assert set(trial.params) == set(fixed)


def test_a_sampled_trial_stays_inside_the_configured_space() -> None:
    problem = PROBLEMS["binary"]  # n0 = 64: widths 16..256
    config = SpaceConfig()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        params = dense_space(study.ask(), problem, config)
        assert config.n_layers[0] <= params["n_layers"] <= config.n_layers[1]
        widths = [params[f"units_{i}"] for i in range(params["n_layers"])]
        assert all(16 <= w <= 256 and w & (w - 1) == 0 for w in widths)
        assert config.learning_rate[0] <= params["learning_rate"] <= config.learning_rate[1]
        if params["n_layers"]:
            assert config.dropout[0] <= params["dropout"] <= config.dropout[1]
        else:  # a perceptron: nothing of hidden layers is sampled
            assert {"dropout", "activation", "units_0"}.isdisjoint(params)
        assert params["batch_size"] in config.batch_sizes
        assert params["loss"] in valid_losses("binary")


def test_out_of_range_fixed_values_are_refused() -> None:
    # A width outside n0/4..4*n0 (16..256 for 30 inputs) is not in the space.
    with pytest.raises(UserWarning, match="log2_units_0"):
        _suggest(_fixed("binary", 1, log2_units_0=10), PROBLEMS["binary"])
    with pytest.raises(UserWarning, match="learning_rate"):
        _suggest(_fixed("binary", 1, learning_rate=0.5), PROBLEMS["binary"])


@pytest.mark.parametrize("task", TASKS)
def test_losses_are_restricted_to_the_task(task: str) -> None:
    other = {"regression": "binary_crossentropy", "binary": "mse"}.get(task, "mae")
    with pytest.raises(ValueError, match=f"'{other}' not in"):
        _suggest(_fixed(task, 1, loss=other), PROBLEMS[task])


def test_mape_is_offered_only_when_no_target_is_near_zero() -> None:
    far = Problem("regression", 10, 1, min_abs_target=2.0)
    near = Problem("regression", 10, 1, min_abs_target=0.0)
    assert "mape" in task_losses(far, SpaceConfig())
    assert "mape" not in task_losses(near, SpaceConfig())
    assert _suggest(_fixed("regression", 1, loss="mape"), far)[0]["loss"] == "mape"
    with pytest.raises(ValueError, match="'mape' not in"):
        _suggest(_fixed("regression", 1, loss="mape"), near)


def test_configured_losses_are_intersected_with_the_task() -> None:
    config = SpaceConfig(losses=("mae", "binary_focal_crossentropy", "mse"))
    assert task_losses(PROBLEMS["regression"], config) == ("mse", "mae")  # canonical first
    assert task_losses(PROBLEMS["binary"], config) == ("binary_focal_crossentropy",)


def test_no_configured_loss_valid_for_the_task_names_the_valid_ones() -> None:
    config = SpaceConfig(losses=("mae",))
    with pytest.raises(ConfigError) as info:
        task_losses(PROBLEMS["multiclass"], config)
    assert str(info.value) == (
        "none of the configured losses ['mae'] is valid for task 'multiclass'. "
        "Use some of: categorical_crossentropy, categorical_focal_crossentropy."
    )


def test_configured_units_override_the_rule() -> None:
    config = SpaceConfig(units=(8, 16))
    assert (
        _suggest(_fixed("binary", 1, log2_units_0=3), PROBLEMS["binary"], config)[0]["units_0"] == 8
    )
    with pytest.raises(UserWarning, match="log2_units_0"):
        _suggest(_fixed("binary", 1, log2_units_0=6), PROBLEMS["binary"], config)


@pytest.mark.parametrize("task", TASKS)
def test_baseline_is_the_textbook_configuration(task: str) -> None:
    problem = PROBLEMS[task]
    params, _ = _suggest(dense_baseline(problem, SpaceConfig()), problem)
    assert params["n_layers"] == 2
    assert params["units_0"] == params["units_1"] == problem.n0
    assert params["activation"] == "relu"
    assert params["initializer"] == "glorot_uniform"
    assert params["optimizer"] == "adam"
    assert params["learning_rate"] == pytest.approx(1e-3)
    assert params["loss"] == TASK_TABLE[task].loss


def _assert_inside(baseline: dict[str, Any], problem: Problem, config: SpaceConfig) -> None:
    _, trial = _suggest(baseline, problem, config)  # raises when a value is outside
    assert trial.params == baseline  # and every baseline value is a parameter of the space


@pytest.mark.parametrize("task", TASKS)
def test_baseline_is_a_point_of_the_default_space(task: str) -> None:
    _assert_inside(dense_baseline(PROBLEMS[task], SpaceConfig()), PROBLEMS[task], SpaceConfig())


@pytest.mark.parametrize(
    "config",
    [
        SpaceConfig(n_layers=(0, 0)),
        SpaceConfig(n_layers=(1, 1)),
        SpaceConfig(n_layers=(3, 5)),
        SpaceConfig(units=(128, 512)),
        SpaceConfig(units=(8, 8)),
        SpaceConfig(learning_rate=(0.01, 0.1)),
        SpaceConfig(learning_rate=(1e-5, 1e-4)),
        SpaceConfig(activations=("tanh",), initializers=("he_uniform",), optimizers=("sgd",)),
        SpaceConfig(batch_sizes=(8, 256), dropout=(0.2, 0.3), epochs=(2, 4)),
        SpaceConfig(losses=("binary_focal_crossentropy", "mae", "categorical_focal_crossentropy")),
    ],
)
@pytest.mark.parametrize("task", TASKS)
def test_baseline_is_clamped_into_a_narrowed_space(config: SpaceConfig, task: str) -> None:
    problem = PROBLEMS[task]
    baseline = dense_baseline(problem, config)
    _assert_inside(baseline, problem, config)
    n_layers = baseline["n_layers"]
    assert n_layers == min(max(2, config.n_layers[0]), config.n_layers[1])
    widths = {baseline[f"log2_units_{i}"] for i in range(n_layers)}
    if n_layers == 0:  # a perceptron has no widths
        assert not widths and "dropout" not in baseline
        return
    assert len(widths) == 1  # every layer starts at the same (clamped) n0
    low, high = config.units or (1, 2**20)
    assert low <= 2 ** widths.pop() <= high


def test_baseline_n0_is_clamped_to_the_configured_units() -> None:
    baseline = dense_baseline(PROBLEMS["binary"], SpaceConfig(units=(128, 512)))  # n0 = 64
    assert baseline["log2_units_0"] == int(math.log2(128))


@pytest.mark.parametrize("task", TASKS)
def test_a_perceptron_samples_no_widths_dropout_or_hidden_activation(task: str) -> None:
    fixed = {k: v for k, v in _fixed(task, 0).items() if k not in ("activation", "dropout")}
    params, trial = _suggest(fixed, PROBLEMS[task])
    assert params["n_layers"] == 0
    assert list(params) == ["n_layers", "initializer", *COMMON[4:]]
    assert set(trial.params) == set(fixed)


def test_the_default_layer_range_includes_the_perceptron() -> None:
    assert SpaceConfig().n_layers == (0, 3)
    assert dense_baseline(PROBLEMS["binary"], SpaceConfig())["n_layers"] == 2
