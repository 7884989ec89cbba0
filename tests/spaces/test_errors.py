"""The error tree: what the CLI maps to exit codes, and the one lookup-miss message."""

from __future__ import annotations

import pytest

from spaces import ConfigError, DataError, TrialFailed, TuneError, check_choice


def test_the_tree_and_its_exit_codes() -> None:
    assert issubclass(ConfigError, TuneError) and ConfigError.exit_code == 2
    assert issubclass(DataError, TuneError) and DataError.exit_code == 1
    assert issubclass(TrialFailed, TuneError)
    assert not issubclass(DataError, ConfigError) and not issubclass(ConfigError, DataError)


def test_check_choice_accepts_a_valid_name() -> None:
    check_choice("thing", "b", {"a": 1, "b": 2})
    check_choice("thing", "b", ("b", "a"))


def test_check_choice_lists_every_valid_name_sorted() -> None:
    with pytest.raises(ConfigError) as info:
        check_choice("sampler", "tp", {"tpe": 1, "random": 2, "cmaes": 3})
    assert str(info.value) == "'tp' is not a valid sampler. Use one of: cmaes, random, tpe."
