"""The study spec: TOML file and flags merged (flags win), validated once, one message shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from search.run._spec import MAX_SEED, StudySpec, build_spec
from spaces import ConfigError, SpaceConfig


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    spec = build_spec({})
    assert spec == StudySpec()
    assert (spec.data, spec.sampler, spec.pruner, spec.space) == (
        "breast_cancer",
        "tpe",
        "median",
        "auto",
    )
    assert spec.trials == 20 and spec.seed == 42 and spec.workers == 1
    assert spec.space_config == SpaceConfig()


def test_none_flags_leave_the_defaults() -> None:
    assert build_spec({"data": None, "trials": None, "seed": None}) == StudySpec()


def test_the_file_fills_the_spec(tmp_path: Path) -> None:
    path = _toml(
        tmp_path,
        """
        [study]
        data = "iris"
        trials = 7
        sampler = "random"
        timeout = 30
        max_epochs = 4

        [space]
        n_layers = [1, 2]
        epochs = [2, 10]
        activations = ["relu", "tanh"]
        """,
    )
    spec = build_spec({}, path)
    assert (spec.data, spec.trials, spec.sampler, spec.timeout) == ("iris", 7, "random", 30)
    assert spec.space_config.n_layers == (1, 2)
    assert spec.space_config.activations == ("relu", "tanh")
    assert spec.effective_space.epochs == (2, 4)  # max_epochs caps the file's range


def test_flags_win_over_the_file(tmp_path: Path) -> None:
    path = _toml(tmp_path, '[study]\ndata = "iris"\ntrials = 7\nseed = 1\n')
    spec = build_spec({"trials": 3, "data": "wine", "seed": None}, path)
    assert (spec.data, spec.trials, spec.seed) == ("wine", 3, 1)


def test_refit_is_left_to_the_task_unless_the_file_or_the_flag_says(tmp_path: Path) -> None:
    assert StudySpec().refit is None
    path = _toml(tmp_path, "[study]\nrefit = false\n")
    assert build_spec({}, path).refit is False
    assert build_spec({"refit": True}, path).refit is True


def test_an_empty_file_gives_the_defaults(tmp_path: Path) -> None:
    assert build_spec({}, _toml(tmp_path, "")) == StudySpec()


def test_unknown_tables_are_named(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[study]\n[model]\nx = 1\n[optuna]\n")
    with pytest.raises(ConfigError) as info:
        build_spec({}, path)
    assert (
        str(info.value) == f"unknown table(s) in '{path}': model, optuna. Use [study] and [space]."
    )


def test_unknown_study_keys_list_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_spec({}, _toml(tmp_path, "[study]\nn_trials = 5\n"))
    message = str(info.value)
    assert message.startswith("unknown key(s) in [study]: n_trials. Valid keys are: ")
    assert "trials" in message and "sampler" in message and "space_config" not in message


def test_unknown_space_keys_list_the_valid_ones(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"unknown key\(s\) in \[space\]: layers\. Valid keys are: "
    ):
        build_spec({}, _toml(tmp_path, "[space]\nlayers = [1, 2]\n"))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('trials = "ten"', "trials must be of type int, but got trials='ten'."),
        ("trials = 2.5", "trials must be of type int, but got trials=2.5."),
        ("trials = true", "trials must be of type int, but got trials=True."),
        ("seed = [1]", "seed must be of type int, but got seed=[1]."),
        ("data = 3", "data must be of type str, but got data=3."),
        ("timeout = nan", "timeout must be of type float | None, but got timeout=nan."),
        ('timeout = "1h"', "timeout must be of type float | None, but got timeout='1h'."),
        ("max_epochs = 1.0", "max_epochs must be of type int | None, but got max_epochs=1.0."),
        ('refit = "no"', "refit must be of type bool | None, but got refit='no'."),
    ],
)
def test_wrong_types_are_named(tmp_path: Path, line: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_spec({}, _toml(tmp_path, f"[study]\n{line}\n"))
    assert str(info.value) == expected


@pytest.mark.parametrize(
    "key",
    ["trials", "workers", "recycle_after", "max_failures", "max_epochs", "heartbeat_interval"],
)
@pytest.mark.parametrize("value", [0, -3])
def test_counts_must_be_positive(tmp_path: Path, key: str, value: int) -> None:
    with pytest.raises(ConfigError) as info:
        build_spec({}, _toml(tmp_path, f"[study]\n{key} = {value}\n"))
    assert str(info.value) == f"{key} must be positive, but got {key}={value}."


def test_the_heartbeat_settings_come_from_the_study_table(tmp_path: Path) -> None:
    spec = build_spec({}, _toml(tmp_path, "[study]\nheartbeat_interval = 1\ngrace_period = 3\n"))
    assert (spec.heartbeat_interval, spec.grace_period) == (1, 3)


def test_the_grace_period_must_outlast_a_heartbeat(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        build_spec({}, _toml(tmp_path, "[study]\nheartbeat_interval = 5\ngrace_period = 5\n"))
    assert str(info.value) == (
        "grace_period must be longer than heartbeat_interval, but got grace_period=5, "
        "heartbeat_interval=5."
    )


def test_trials_zero_from_a_flag() -> None:
    with pytest.raises(ConfigError, match=r"^trials must be positive, but got trials=0\.$"):
        build_spec({"trials": 0})


@pytest.mark.parametrize("timeout", [0, -1.5])
def test_timeout_must_be_positive(timeout: float) -> None:
    with pytest.raises(ConfigError, match="timeout must be positive"):
        build_spec({"timeout": timeout})


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1, 2**32, 2**63 - 1])
def test_seed_must_fit_the_generators(seed: int) -> None:
    # A negative seed used to surface as "cannot split the data" from scikit-learn.
    with pytest.raises(ConfigError) as info:
        build_spec({"seed": seed})
    assert str(info.value) == f"seed must be between 0 and {MAX_SEED}, but got seed={seed}."


@pytest.mark.parametrize("seed", [0, 1, MAX_SEED])
def test_valid_seeds(seed: int) -> None:
    assert build_spec({"seed": seed}).seed == seed


@pytest.mark.parametrize(
    ("key", "value", "kind"),
    [
        ("sampler", "annealing", "sampler"),
        ("pruner", "patient", "pruner"),
        ("space", "lstm", "space"),
        ("task", "ranking", "task"),
    ],
)
def test_bad_names_list_the_valid_ones(tmp_path: Path, key: str, value: str, kind: str) -> None:
    with pytest.raises(ConfigError, match=f"^'{value}' is not a valid {kind}. Use one of: "):
        build_spec({}, _toml(tmp_path, f'[study]\n{key} = "{value}"\n'))


@pytest.mark.parametrize(
    "space",
    [
        "n_layers = [3, 1]",
        "units = [256, 16]",
        "learning_rate = [0.1, 0.0001]",
        "epochs = [20, 5]",
        "dropout = [0.4, 0.1]",
    ],
)
def test_inverted_ranges_in_the_space_table(tmp_path: Path, space: str) -> None:
    key = space.split(" ")[0]
    with pytest.raises(
        ConfigError, match=rf"^{key} must have low <= high, but got {key}=.*; swap them\.$"
    ):
        build_spec({}, _toml(tmp_path, f"[space]\n{space}\n"))


def test_a_blank_study_name() -> None:
    with pytest.raises(ConfigError, match="study must be a non-empty name"):
        build_spec({"study": "  "})


def test_a_missing_config_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        build_spec({}, path)
    assert str(info.value) == f"cannot read config file '{path}': No such file or directory."


@pytest.mark.parametrize(
    "text", ["[study\ntrials = 1", "trials = = 2", "[study]\ntrials = 1\ntrials = 2"]
)
def test_invalid_toml_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = _toml(tmp_path, text)
    with pytest.raises(ConfigError, match=f"config file '{path}' is not valid TOML"):
        build_spec({}, path)


def test_binary_config_file(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        build_spec({}, path)


@pytest.mark.parametrize("text", ["study = 3", 'space = "wide"', "study = [1, 2]"])
def test_tables_that_are_not_tables(tmp_path: Path, text: str) -> None:
    path = _toml(tmp_path, text)
    with pytest.raises(
        ConfigError, match=f"'{path}' must hold \\[study\\] and \\[space\\] tables."
    ):
        build_spec({}, path)


def test_messages_are_one_line(tmp_path: Path) -> None:
    bad: list[dict[str, Any]] = [{"trials": 0}, {"sampler": "x"}, {"seed": -5}, {"study": ""}]
    for flags in bad:
        with pytest.raises(ConfigError) as info:
            build_spec(flags)
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError) as info:
        build_spec({}, _toml(tmp_path, "[study\n"))
    assert "\n" not in str(info.value)
