"""The registry of space families: dict literals behind get_space, misses list the valid names."""

from __future__ import annotations

import optuna
import pytest

from spaces import SPACES, TASKS, ConfigError, Problem, SpaceConfig, SpaceFamily, get_space


def test_dense_is_registered_for_every_task() -> None:
    assert "dense" in SPACES
    assert set(SPACES["dense"].tasks) == set(TASKS)


@pytest.mark.parametrize("name", sorted(SPACES))
def test_lookup_returns_the_registered_family(name: str) -> None:
    family = get_space(name)
    assert family is SPACES[name]
    assert isinstance(family, SpaceFamily)
    assert family.tasks and set(family.tasks) <= set(TASKS)


@pytest.mark.parametrize(
    ("name", "task"), [(n, t) for n in sorted(SPACES) for t in SPACES[n].tasks]
)
def test_every_family_samples_its_baseline_for_every_task(name: str, task: str) -> None:
    family = SPACES[name]
    outputs = 1 if task in ("regression", "binary") else 3
    problem = Problem(
        task, n_inputs=6, n_outputs=outputs, image_shape=(2, 3, 1), sequence_shape=(3, 2)
    )
    baseline = family.baseline(problem, SpaceConfig())
    params = family.suggest(optuna.trial.FixedTrial(baseline), problem, SpaceConfig())  # type: ignore[arg-type]
    assert isinstance(params, dict) and params


@pytest.mark.parametrize("name", ["lstm", "Dense", "", "mlp", "auto"])
def test_a_miss_lists_the_valid_names(name: str) -> None:
    with pytest.raises(ConfigError) as info:
        get_space(name)
    valid = ", ".join(sorted(SPACES))
    assert str(info.value) == f"'{name}' is not a valid space. Use one of: {valid}."
