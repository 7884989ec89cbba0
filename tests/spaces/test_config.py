"""SpaceConfig: the defaults the issue lists, and one validator with one message shape."""

from __future__ import annotations

import json
from typing import Any

import pytest

from spaces import (
    ACTIVATIONS,
    INITIALIZERS,
    OPTIMIZERS,
    ConfigError,
    SpaceConfig,
    record_difference,
)


def test_defaults_follow_the_issue() -> None:
    config = SpaceConfig()
    assert config.n_layers == (0, 3)  # 0: the perceptron
    assert config.units is None  # derived from the power-of-two rule
    assert config.learning_rate == (1e-4, 1e-1)
    assert set(config.initializers) == {
        "glorot_uniform",
        "glorot_normal",
        "he_normal",
        "he_uniform",
        "lecun_normal",
        "lecun_uniform",
    }
    assert set(config.activations) == {"relu", "tanh", "elu", "selu", "gelu", "silu", "sigmoid"}
    assert set(config.optimizers) == {"adam", "adamw", "sgd", "rmsprop", "nadam"}
    assert all(b & (b - 1) == 0 for b in config.batch_sizes)  # powers of two
    assert config.epochs is None  # the family's own range
    assert config.epoch_range() == (5, 30)
    assert 0.0 <= config.dropout[0] < config.dropout[1] < 1.0
    assert config.losses is None  # every loss valid for the task


def test_an_empty_table_gives_the_defaults() -> None:
    assert SpaceConfig.from_mapping({}) == SpaceConfig()


def test_a_full_table_is_taken_as_given() -> None:
    config = SpaceConfig.from_mapping(
        {
            "n_layers": [2, 4],
            "units": [16, 128],
            "initializers": ["he_normal"],
            "learning_rate": [0.001, 0.01],
            "epochs": [2, 3],
            "batch_sizes": [8, 16],
            "activations": ["tanh", "relu", "tanh"],
            "optimizers": ["sgd"],
            "dropout": [0.1, 0.2],
            "losses": ["mae"],
        }
    )
    assert config.n_layers == (2, 4)
    assert config.units == (16, 128)
    assert config.initializers == ("he_normal",)
    assert config.learning_rate == (0.001, 0.01)
    assert config.epochs == (2, 3)
    assert config.batch_sizes == (8, 16)
    assert config.activations == ("tanh", "relu")  # duplicates dropped, order kept
    assert config.optimizers == ("sgd",)
    assert config.dropout == (0.1, 0.2)
    assert config.losses == ("mae",)


def test_whole_floats_in_integer_ranges_become_ints() -> None:
    config = SpaceConfig.from_mapping({"n_layers": [1.0, 2.0], "epochs": [3.0, 3.0]})
    assert config.n_layers == (1, 2) and isinstance(config.n_layers[0], int)
    assert config.epochs == (3, 3)


def test_unknown_keys_are_named_with_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown key\(s\) in \[space\]: layers, unit\.") as info:
        SpaceConfig.from_mapping({"layers": [1, 2], "unit": [8, 16], "epochs": [1, 2]})
    assert "Valid keys are: activations, augment, batch_sizes, cnn, dropout" in str(info.value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("n_layers", [3, 1]),
        ("units", [256, 16]),
        ("learning_rate", [0.1, 0.001]),
        ("epochs", [10, 2]),
        ("dropout", [0.5, 0.1]),
    ],
)
def test_inverted_ranges_are_refused(key: str, value: list[Any]) -> None:
    with pytest.raises(ConfigError) as info:
        SpaceConfig.from_mapping({key: value})
    assert str(info.value) == f"{key} must have low <= high, but got {key}={value}; swap them."


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("n_layers", [-1, 2]),
        ("n_layers", [1, 17]),
        ("units", [4, 64]),
        ("units", [16, 2048]),
        ("learning_rate", [0.0, 0.1]),
        ("learning_rate", [0.001, 100.0]),
        ("epochs", [0, 5]),
        ("dropout", [-0.1, 0.2]),
        ("dropout", [0.0, 1.0]),
    ],
)
def test_out_of_bounds_ranges_are_refused(key: str, value: list[Any]) -> None:
    with pytest.raises(ConfigError, match=rf"^{key} must lie within \[.*\], but got {key}="):
        SpaceConfig.from_mapping({key: value})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("n_layers", 2, "must be a [low, high] pair of numbers"),
        ("n_layers", [1, 2, 3], "must be a [low, high] pair of numbers"),
        ("n_layers", ["1", "2"], "must be a [low, high] pair of numbers"),
        ("n_layers", [True, 2], "must be a [low, high] pair of numbers"),
        ("learning_rate", [float("nan"), 0.1], "must be a [low, high] pair of numbers"),
        ("learning_rate", "0.01", "must be a [low, high] pair of numbers"),
        ("n_layers", [1.5, 2], "must be whole numbers"),
        ("epochs", [1, 2.5], "must be whole numbers"),
        ("units", [24, 64], "must be powers of two"),
        ("activations", "relu", "must be a non-empty list"),
        ("activations", [], "must be a non-empty list"),
        ("losses", {"a": 1}, "must be a non-empty list"),
    ],
)
def test_wrong_types_are_refused_naming_the_key(key: str, value: Any, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        SpaceConfig.from_mapping({key: value})
    message = str(info.value)
    assert message.startswith(f"{key} {expected}"), message
    assert f"but got {key}=" in message


@pytest.mark.parametrize(
    ("key", "value", "valid"),
    [
        ("initializers", ["glorot_uniform", "zeros"], INITIALIZERS),
        ("activations", ["relu", "softmax"], ACTIVATIONS),
        ("optimizers", ["adam", "adagrad"], OPTIMIZERS),
        ("losses", ["mse", "huber_loss"], ("binary_crossentropy", "log_cosh", "mape")),
    ],
)
def test_bad_choice_names_list_the_valid_values(
    key: str, value: list[str], valid: tuple[str, ...]
) -> None:
    with pytest.raises(ConfigError) as info:
        SpaceConfig.from_mapping({key: value})
    message = str(info.value)
    assert message.startswith(f"{key} has invalid value(s) ['{value[1]}']. Use values from: ")
    assert all(name in message for name in valid)


@pytest.mark.parametrize("batch_sizes", [[24], [32.0], [True], ["32"], [0]])
def test_batch_sizes_must_be_integer_powers_of_two(batch_sizes: list[Any]) -> None:
    # 32.0 once passed (32.0 == 32) and then crashed Keras's fit in every trial.
    with pytest.raises(ConfigError, match=r"^batch_sizes has invalid value\(s\)"):
        SpaceConfig.from_mapping({"batch_sizes": batch_sizes})


def test_messages_are_one_line() -> None:
    for table in ({"x": 1}, {"n_layers": [3, 1]}, {"activations": ["nope"]}, {"units": [3, 5]}):
        with pytest.raises(ConfigError) as info:
            SpaceConfig.from_mapping(table)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(("max_epochs", "expected"), [(3, (3, 3)), (10, (5, 10)), (100, (5, 30))])
def test_max_epochs_caps_the_epoch_range(max_epochs: int, expected: tuple[int, int]) -> None:
    assert SpaceConfig().with_max_epochs(max_epochs).epoch_range() == expected
    configured = SpaceConfig(epochs=(5, 30)).with_max_epochs(max_epochs)
    assert configured.epochs == configured.epoch_range((1, 2)) == expected


def test_the_rnn_family_has_its_own_default_epochs() -> None:
    assert SpaceConfig().epoch_range((4, 16)) == (4, 16)
    assert SpaceConfig().with_max_epochs(8).epoch_range((4, 16)) == (4, 8)
    assert SpaceConfig(epochs=(2, 3)).epoch_range((4, 16)) == (2, 3)  # set: every family


def test_max_epochs_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="--max-epochs must be at least 1, but got max-epochs=0"):
        SpaceConfig().with_max_epochs(0)


def test_family_tables_are_read_into_their_own_config() -> None:
    config = SpaceConfig.from_mapping(
        {
            "epochs": [2, 4],
            "cnn": {"filters": [8, 32], "kernel_sizes": [3]},
            "rnn": {"cells": ["gru"], "bidirectional": [False], "units": [8, 16]},
            "augment": {"vertical_flip": True, "rotation": [0.0, 0.2]},
            "transfer": {"unfreeze": [0, 4], "fine_tune_learning_rate": [1e-6, 1e-4]},
        }
    )
    assert config.epochs == (2, 4) and config.cnn.filters == (8, 32)
    assert config.rnn.cells == ("gru",) and config.rnn.bidirectional == (False,)
    assert config.augment.vertical_flip and config.augment.rotation == (0.0, 0.2)
    assert config.transfer.unfreeze == (0, 4)
    assert config.tables == {"cnn", "rnn", "augment", "transfer"} and not config.notes


def test_flat_cnn_keys_move_to_their_table_with_a_note() -> None:
    config = SpaceConfig.from_mapping({"conv_layers": [1, 1]})
    assert config.cnn.conv_layers == (1, 1)
    assert config.notes == (
        "[space] conv_layers now belongs in [space.cnn]; it was read from [space]",
    )
    with pytest.raises(ConfigError, match=r"^filters is set in both \[space\] and \[space.cnn\]"):
        SpaceConfig.from_mapping({"filters": [8, 8], "cnn": {"filters": [8, 16]}})


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"rnn": {"units": [8, 12]}}, "rnn.units must be powers of two, but got rnn.units=[8, 12]."),
        ({"rnn": {"cells": ["lstm", "transformer"]}}, "rnn.cells has invalid value(s) ['transformer']"),
        ({"rnn": {"bidirectional": [1]}}, "rnn.bidirectional has invalid value(s) [1]"),
        ({"augment": {"enabled": "yes"}}, "augment.enabled must be true or false, but got augment.enabled='yes'."),
        ({"augment": {"zoom": [0.3, 0.1]}}, "augment.zoom must have low <= high, but got augment.zoom=[0.3, 0.1]; swap them."),
        ({"transfer": {"unfreeze": [0, 1.5]}}, "transfer.unfreeze must be whole numbers, but got transfer.unfreeze=[0, 1.5]."),
        ({"cnn": {"depth": 3}}, "unknown key(s) in [space.cnn]: depth. Valid keys are: conv_layers, filters, kernel_sizes."),
        ({"rnn": [1, 2]}, "rnn must be a table [space.rnn], but got rnn=[1, 2]."),
    ],
)  # fmt: skip
def test_family_values_share_the_one_message_form(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        SpaceConfig.from_mapping(table)
    assert str(info.value).startswith(message)


def test_a_record_gives_the_same_config_back() -> None:
    config = SpaceConfig.from_mapping({"epochs": [2, 4], "rnn": {"units": [8, 16]}})
    capped = SpaceConfig().with_max_epochs(8)

    assert SpaceConfig.from_record(config.to_record()) == config
    assert SpaceConfig.from_record(capped.to_record()) == capped
    assert json.loads(json.dumps(capped.to_record())) == capped.to_record()


def test_the_first_difference_between_records_is_named_with_its_table() -> None:
    was = SpaceConfig.from_mapping({"rnn": {"units": [8, 16]}}).to_record()
    now = SpaceConfig.from_mapping({"rnn": {"units": [8, 32]}}).to_record()

    assert record_difference(was, now) == "rnn.units=[8, 16], not [8, 32]"
    assert record_difference(was, was) is None
