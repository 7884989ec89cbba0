"""The rnn family: recurrent layers over (steps, features) sequences, then the dense head.

The recurrent units are seeded by the power-of-two rule on F, the features per step, not on
T x F: a recurrent layer reads one step at a time, so F is the width of what each of its
units sees, and T only says how often it reads.
"""

from __future__ import annotations

import math
from typing import Any

import optuna

from spaces._config import SpaceConfig
from spaces._dense import (
    clamp,
    head_baseline,
    head_space,
    prefer,
    training_baseline,
    training_space,
)
from spaces._errors import ConfigError
from spaces._problem import Problem
from spaces._rules import power_of_two_rule, units_range
from spaces._transfer import transfer_baseline, transfer_space

# A recurrent layer steps through T positions one after the other, so an epoch costs many
# times a dense one's: one LSTM fit of 30 epochs on 1,000 sequences of 24 steps took 12-40 s
# on a 2-core machine. With 4-16 epochs a 3-minute search finished 9 trials there; 3-12 is
# meant to keep it above a dozen (bench/rnn.py, whose figures bench/README.md gives).
RNN_EPOCHS = (3, 12)


def rnn_space(
    trial: optuna.trial.BaseTrial, problem: Problem, config: SpaceConfig
) -> dict[str, Any]:
    """Sample one RNN: cell, rnn_layers, rnn_units_{i} (sampled as log2_rnn_units_{i}),
    bidirectional, rnn_dropout and recurrent_dropout (or, with a base model, what of it to
    fine-tune), then the dense head and training settings.

    Raises:
        ConfigError: The inputs are not sequences.
    """
    features = _features(problem)
    if problem.base is not None:
        params = transfer_space(trial, problem.base, config.transfer)
    else:
        rnn = config.rnn
        low, high = _log2_units_bounds(features, config)
        params = {"cell": trial.suggest_categorical("cell", rnn.cells)}
        params["rnn_layers"] = trial.suggest_int("rnn_layers", *rnn.layers)
        for i in range(params["rnn_layers"]):
            params[f"rnn_units_{i}"] = 2 ** trial.suggest_int(f"log2_rnn_units_{i}", low, high)
        params["bidirectional"] = trial.suggest_categorical("bidirectional", rnn.bidirectional)
        params["rnn_dropout"] = trial.suggest_float("rnn_dropout", *rnn.dropout)
        params["recurrent_dropout"] = trial.suggest_float(
            "recurrent_dropout", *rnn.recurrent_dropout
        )
    params.update(head_space(trial, problem, config))
    return {**params, **training_space(trial, problem, config, RNN_EPOCHS)}


def rnn_baseline(problem: Problem, config: SpaceConfig) -> dict[str, Any]:
    """The textbook RNN as Optuna parameters: one LSTM layer of n0 units (n0 from F), then the
    dense baseline's head and training; values the config excludes are clamped into it."""
    features = _features(problem)
    if problem.base is not None:
        params = transfer_baseline(problem.base, config.transfer)
    else:
        rnn = config.rnn
        low, high = _log2_units_bounds(features, config)
        layers = clamp(1, rnn.layers)
        log2_n0 = min(max(int(math.log2(power_of_two_rule(features))), low), high)
        params = {
            "cell": prefer("lstm", rnn.cells),
            "rnn_layers": layers,
            **{f"log2_rnn_units_{i}": log2_n0 for i in range(layers)},
            "bidirectional": prefer(False, rnn.bidirectional),
            "rnn_dropout": rnn.dropout[0],
            "recurrent_dropout": rnn.recurrent_dropout[0],
        }
    params.update(head_baseline(problem, config))
    return {**params, **training_baseline(problem, config, RNN_EPOCHS)}


def _features(problem: Problem) -> int:
    if problem.sequence_shape is None:
        raise ConfigError(
            "the rnn space needs sequences: give an .npz file whose x is (N, T, F) or "
            "(N, T), or use --space dense."
        )
    return problem.sequence_shape[1]


def _log2_units_bounds(features: int, config: SpaceConfig) -> tuple[int, int]:
    low, high = config.rnn.units or units_range(power_of_two_rule(features))
    return int(math.log2(low)), int(math.log2(high))
