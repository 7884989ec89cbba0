"""The rnn family, driven with optuna.trial.FixedTrial: recurrent layers, then the dense head."""

from __future__ import annotations

import optuna
import pytest

from spaces import TASKS, BaseModel, ConfigError, Problem, SpaceConfig
from spaces._config import RnnConfig, TransferConfig
from spaces._rnn import rnn_baseline, rnn_space

OUTPUTS = {"regression": 1, "binary": 1, "multiclass": 3, "multilabel": 2}


def _problem(task: str = "binary", steps: int = 24, features: int = 1, **extra) -> Problem:
    return Problem(task, steps * features, OUTPUTS[task], sequence_shape=(steps, features), **extra)


@pytest.mark.parametrize("task", TASKS)
def test_the_baseline_is_one_lstm_of_n0_then_the_dense_head(task: str) -> None:
    problem = _problem(task, features=7)  # F = 7: n0 = 16 units, whatever T is
    baseline = rnn_baseline(problem, SpaceConfig())
    params = rnn_space(optuna.trial.FixedTrial(baseline), problem, SpaceConfig())  # type: ignore[arg-type]
    assert (params["cell"], params["rnn_layers"], params["rnn_units_0"]) == ("lstm", 1, 16)
    assert params["bidirectional"] is False and params["rnn_dropout"] == 0.0
    assert params["n_layers"] == 2 and params["units_0"] == problem.n0


def test_units_follow_the_rule_on_features_not_on_steps() -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        params = rnn_space(study.ask(), _problem(steps=100, features=1), SpaceConfig())
        units = [params[f"rnn_units_{i}"] for i in range(params["rnn_layers"])]
        assert all(u in (8, 16, 32) for u in units)  # n0 = 8 for F = 1, clamped to 8..32
        assert params["cell"] in ("lstm", "gru", "simple_rnn")
        assert 1 <= params["rnn_layers"] <= 2


def test_configured_cells_and_units_narrow_the_space() -> None:
    config = SpaceConfig(rnn=RnnConfig(cells=("gru",), units=(64, 64), layers=(2, 2)))
    baseline = rnn_baseline(_problem(), config)
    assert baseline["cell"] == "gru" and baseline["rnn_layers"] == 2
    params = rnn_space(optuna.trial.FixedTrial(baseline), _problem(), config)  # type: ignore[arg-type]
    assert params["rnn_units_0"] == params["rnn_units_1"] == 64


def test_with_a_base_model_only_the_fine_tuning_is_searched() -> None:
    base = BaseModel("/tmp/base.keras", (24, 1), layers=3)
    problem = _problem(base=base)
    config = SpaceConfig(transfer=TransferConfig(unfreeze=(1, 5)))
    baseline = rnn_baseline(problem, config)
    assert baseline["unfreeze"] == 1 and "cell" not in baseline
    trial = optuna.trial.FixedTrial({**baseline, "unfreeze": 3})
    params = rnn_space(trial, problem, config)  # type: ignore[arg-type]
    assert params["unfreeze"] == 3 and params["fine_tune_learning_rate"] == 1e-5


def test_data_that_are_not_sequences_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"^the rnn space needs sequences: "):
        rnn_baseline(Problem("binary", 24, 1), SpaceConfig())
