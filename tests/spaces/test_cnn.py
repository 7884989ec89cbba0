"""The cnn family, driven with optuna.trial.FixedTrial: convolution blocks, then the dense head."""

from __future__ import annotations

from typing import Any

import optuna
import pytest

from spaces import TASK_TABLE, TASKS, ConfigError, Problem, SpaceConfig
from spaces._augment import augment_baseline
from spaces._cnn import cnn_baseline, cnn_space
from spaces._config import AugmentConfig, CnnConfig
from spaces._dense import dense_baseline

OUTPUTS = {"regression": 1, "binary": 1, "multiclass": 10, "multilabel": 4}


def _problem(task: str, shape: tuple[int, int, int] | None = (8, 8, 1)) -> Problem:
    inputs = 64 if shape is None else shape[0] * shape[1] * shape[2]
    return Problem(task, n_inputs=inputs, n_outputs=OUTPUTS[task], image_shape=shape)


def _fixed(task: str, conv_layers: int, **overrides: Any) -> dict[str, Any]:
    problem = _problem(task)
    head = dense_baseline(problem, SpaceConfig())
    blocks = {f"log2_filters_{i}": 3 + i for i in range(conv_layers)}
    augment = augment_baseline(AugmentConfig())
    fixed = {"conv_layers": conv_layers, **blocks, "kernel_size": 5, **augment, **head}
    return {**fixed, **overrides}


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("conv_layers", [1, 2, 3])
def test_blocks_then_the_dense_head_for_every_task(task: str, conv_layers: int) -> None:
    trial = optuna.trial.FixedTrial(_fixed(task, conv_layers))
    params = cnn_space(trial, _problem(task), SpaceConfig())  # type: ignore[arg-type]
    assert params["conv_layers"] == conv_layers
    assert [params[f"filters_{i}"] for i in range(conv_layers)] == [8, 16, 32][:conv_layers]
    assert "filters_3" not in params
    assert params["kernel_size"] == 5
    assert params["loss"] == TASK_TABLE[task].loss
    assert {"n_layers", "units_0", "learning_rate", "epochs", "batch_size"} <= set(params)


def test_the_baseline_is_the_textbook_cnn() -> None:
    baseline = cnn_baseline(_problem("multiclass"), SpaceConfig())
    assert baseline["conv_layers"] == 2
    assert [2 ** baseline[f"log2_filters_{i}"] for i in range(2)] == [32, 64]
    assert baseline["kernel_size"] == 3
    assert baseline["n_layers"] == 2 and baseline["optimizer"] == "adam"


def test_the_baseline_is_clamped_into_a_narrower_config() -> None:
    config = SpaceConfig(cnn=CnnConfig(conv_layers=(1, 1), filters=(8, 16), kernel_sizes=(5,)))
    problem = _problem("binary")
    baseline = cnn_baseline(problem, config)
    assert baseline["conv_layers"] == 1
    assert baseline["log2_filters_0"] == 4
    assert baseline["kernel_size"] == 5
    params = cnn_space(optuna.trial.FixedTrial(baseline), problem, config)  # type: ignore[arg-type]
    assert params["filters_0"] == 16


@pytest.mark.parametrize("function", [cnn_space, cnn_baseline])
def test_inputs_that_are_not_images_are_refused(function: Any) -> None:
    arguments = () if function is cnn_baseline else (optuna.trial.FixedTrial({}),)
    with pytest.raises(ConfigError, match=r"the cnn space needs images: give a folder of images"):
        function(*arguments, _problem("binary", shape=None), SpaceConfig())


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"filters": [8, 24]}, r"filters must be powers of two"),
        ({"conv_layers": [3, 1]}, r"conv_layers must have low <= high"),
        ({"conv_layers": [0, 2]}, r"conv_layers must lie within \[1, 6\]"),
        ({"kernel_sizes": [4]}, r"kernel_sizes has invalid value\(s\) \[4\]"),
    ],
)
def test_bad_cnn_settings_are_refused(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SpaceConfig.from_mapping(table)


def test_a_cnn_without_hidden_layers_still_samples_its_convolutions_activation() -> None:
    fixed = {k: v for k, v in _fixed("binary", 1).items() if not k.startswith("log2_units")}
    fixed.update(n_layers=0, activation="elu")
    del fixed["dropout"]
    params = cnn_space(optuna.trial.FixedTrial(fixed), _problem("binary"), SpaceConfig())  # type: ignore[arg-type]
    assert params["n_layers"] == 0 and params["activation"] == "elu"
    assert "dropout" not in params and "units_0" not in params


def test_augmentation_switches_and_magnitudes_are_parameters() -> None:
    fixed = _fixed("binary", 1, augment_flip=True, augment_rotation=True, rotation_factor=0.05)
    params = cnn_space(optuna.trial.FixedTrial(fixed), _problem("binary"), SpaceConfig())  # type: ignore[arg-type]
    assert params["augment_flip"] and params["flip_mode"] == "horizontal"
    assert params["rotation_factor"] == 0.05 and params["augment_zoom"] is False
    assert "zoom_factor" not in params


def test_flips_are_offered_only_where_the_config_allows_them() -> None:
    config = SpaceConfig(augment=AugmentConfig(horizontal_flip=False))
    baseline = cnn_baseline(_problem("binary"), config)
    assert "augment_flip" not in baseline
    off = SpaceConfig(augment=AugmentConfig(enabled=False))
    assert not any(k.startswith("augment") for k in cnn_baseline(_problem("binary"), off))
