"""A KerasTuner contender: RandomSearch, Hyperband or BayesianOptimization over the fixed space.

    python -m contenders.kt_search random|hyperband|bayesian SPLIT_FOLDER SEED BUDGET OUT

KerasTuner has no wall-clock budget of its own; like `tune run --timeout`, this stops starting
trials once the budget (counted from the search's start) is spent, and lets the running one end.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import keras
import keras_tuner

from contenders import fixed_space as fixed
from contenders.datasets import read_split

HYPERBAND = {"max_epochs": 30, "factor": 3, "hyperband_iterations": 1000}
MANY_TRIALS = 100_000  # the budget ends the search, not a trial count


class BudgetSpent(Exception):
    """The wall budget is spent: leave KerasTuner's search loop."""


def hypermodel(arrays: fixed.Arrays) -> Any:
    """KerasTuner's fixed.build function over the fixed space."""

    def build_hp(hp: keras_tuner.HyperParameters) -> Any:
        layers = hp.Int("layers", 1, 3)
        params = {
            "layers": layers,
            **{f"units_{i}": hp.Choice(f"units_{i}", list(fixed.UNITS)) for i in range(layers)},
            "activation": hp.Choice("activation", list(fixed.ACTIVATIONS)),
            "initializer": hp.Choice("initializer", list(fixed.INITIALIZERS)),
            "dropout": hp.Float("dropout", 0.0, 0.5),
            "learning_rate": hp.Float("learning_rate", 1e-4, 1e-1, sampling="log"),
        }
        return fixed.build(params, arrays)

    return build_hp


def tuner_class(kind: str) -> type:
    """KerasTuner's tuner, with a deadline and a record of each improving model."""
    base = {
        "random": keras_tuner.RandomSearch,
        "hyperband": keras_tuner.Hyperband,
        "bayesian": keras_tuner.BayesianOptimization,
    }[kind]

    class Timed(base):  # type: ignore[valid-type,misc]
        deadline = float("inf")
        improvements: fixed.Improvements
        finished = 0

        def pre_create_trial(self) -> None:
            if time.time() >= self.deadline:
                raise BudgetSpent
            super().pre_create_trial()

        def on_trial_end(self, trial: Any) -> None:
            super().on_trial_end(trial)
            ended = self.oracle.get_trial(trial.trial_id)
            if ended.status == "COMPLETED":
                self.finished += 1
                self.improvements.offer(ended.score, self.load_model(ended))

    return Timed


def main(kind: str, folder: str, seed: str, budget: str, out: str) -> None:
    split = read_split(Path(folder))
    arrays = fixed.load_pool(split)
    keras.utils.set_random_seed(int(seed))
    monitor, direction = fixed.objective_name(split.task)
    extra = HYPERBAND if kind == "hyperband" else {"max_trials": MANY_TRIALS}
    work = Path(out).parent / f"kt-{kind}"
    tuner = tuner_class(kind)(
        hypermodel(arrays), objective=keras_tuner.Objective(monitor, direction), seed=int(seed),
        directory=str(work), project_name="search", overwrite=True, **extra,
    )  # fmt: skip
    tuner.improvements = fixed.Improvements(work, direction)
    started = time.time()
    tuner.deadline = started + float(budget)
    epochs = {} if kind == "hyperband" else {"epochs": fixed.EPOCHS}
    with contextlib.suppress(BudgetSpent):
        tuner.search(
            arrays.x, arrays.y, batch_size=fixed.BATCH, validation_split=fixed.VALIDATION_SPLIT, verbose=0,
            **epochs,
        )  # fmt: skip
    ended = time.time()
    facts = {"started": started, "ended": ended, "trials": tuner.finished}
    fixed.finish(Path(out), tuner.improvements, split, arrays, fits=tuner.finished, **facts)


if __name__ == "__main__":
    main(*sys.argv[1:])
