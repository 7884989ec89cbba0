"""Contract tests over every registry entry: spaces, samplers, pruners, metrics.

Adding an entry to a registry adds it to these tests, with nothing else to write.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import optuna
import pytest

from objectives import BUILDERS, METRICS, Splits, build_model, get_metric, score, train_model
from search import cli
from search.run._pruners import PRUNERS, make_pruner
from search.run._samplers import SAMPLERS, make_sampler
from spaces import SPACES, TASKS, ConfigError, Problem, SpaceConfig

_OUTPUTS = {"regression": 1, "binary": 1, "multiclass": 3, "multilabel": 2}


def _splits(task: str, n: int = 30) -> Splits:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    labels = np.arange(n) % 3
    y = {
        "regression": x[:, :1] * 2.0 + 1.0,
        "binary": (labels[:, None] == 1).astype("float32"),
        "multiclass": np.eye(3, dtype="float32")[labels],
        "multilabel": np.stack([labels == 0, labels != 1], axis=1).astype("float32"),
    }[task]
    return Splits(x[:18], y[:18], x[18:24], y[18:24], x[24:], y[24:])


@pytest.mark.parametrize(("name", "task"), [(n, t) for n, f in SPACES.items() for t in f.tasks])
def test_every_space_builds_and_trains_one_epoch_for_every_task_it_claims(
    name: str, task: str, seed: int
) -> None:
    family = SPACES[name]
    # The four inputs are also a 2x2 image and 2 steps of 2 features, for the families
    # that need images or sequences.
    problem = Problem(
        task,
        n_inputs=4,
        n_outputs=_OUTPUTS[task],
        min_abs_target=0.5,
        image_shape=(2, 2, 1),
        sequence_shape=(2, 2),
    )
    # A sampled (not hand-written) point of the space, from a real in-memory study.
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    params = family.suggest(study.ask(), problem, SpaceConfig(epochs=(1, 1)))
    metric = get_metric(None, task)
    model = build_model(params, problem, metric, family.builder)
    splits = _splits(task)
    trained = train_model(model, splits, params, metric=metric, task=task)  # as a trial does
    history = trained.history
    assert len(history["loss"]) == len(history[f"val_{metric.name}"]) == 1
    assert np.isfinite(history["loss"][0])
    value = score(model, splits.x_val, splits.y_val, metric, task)
    assert np.isfinite(value) and value == history[f"val_{metric.name}"][0]


@pytest.mark.parametrize("name", sorted(SPACES))
def test_every_space_claims_known_tasks_and_a_known_builder(name: str) -> None:
    family = SPACES[name]
    assert family.tasks and set(family.tasks) <= set(TASKS)
    assert family.builder in BUILDERS


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_can_be_constructed(name: str) -> None:
    if name == "gp" and importlib.util.find_spec("torch") is None:
        with pytest.raises(ConfigError) as info:
            make_sampler(name, 0)
        assert "pip install -e '.[gp]'" in str(info.value)  # names the fix
        assert "--sampler tpe" in str(info.value)
        return
    assert isinstance(make_sampler(name, 7), optuna.samplers.BaseSampler)


@pytest.mark.parametrize("name", sorted(PRUNERS))
def test_every_pruner_can_be_constructed(name: str) -> None:
    assert isinstance(make_pruner(name), optuna.pruners.BasePruner)


@pytest.mark.parametrize(("name", "task"), [(n, t) for n, m in METRICS.items() for t in m.tasks])
def test_every_metric_builds_its_keras_twin_for_every_task(name: str, task: str) -> None:
    metric = get_metric(name, task)
    assert metric.keras(task).name == name


@pytest.mark.parametrize(
    ("choices", "registry"),
    [
        (cli.SAMPLER_NAMES, SAMPLERS),
        (cli.PRUNER_NAMES, PRUNERS),
        (cli.METRIC_NAMES, METRICS),
    ],
)
def test_the_cli_offers_exactly_the_registry_keys(choices: tuple[str, ...], registry: dict) -> None:
    assert set(choices) == set(registry)


@pytest.mark.parametrize("registry", [SAMPLERS, PRUNERS])
def test_misses_list_the_valid_names(registry: dict) -> None:
    with pytest.raises(ConfigError) as info:
        (make_sampler("nope", 0) if registry is SAMPLERS else make_pruner("nope"))
    assert str(info.value).endswith(f"Use one of: {', '.join(sorted(registry))}.")
