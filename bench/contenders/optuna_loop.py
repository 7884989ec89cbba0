"""The hand-written contender: what a user writes in an afternoon with Optuna and MLflow.

    python -m contenders.optuna_loop SPLIT_FOLDER SEED BUDGET OUT

TPE (seeded) over the fixed space, a MedianPruner fed by optuna_integration's
KerasPruningCallback, and each trial a nested MLflow run with its parameters and per-epoch
metrics; `study.optimize(timeout=...)` stops starting trials when the budget is spent.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import keras
import mlflow
import optuna
from optuna_integration import KerasPruningCallback

from contenders import fixed_space as fixed
from contenders.datasets import read_split


class EpochLogger(keras.callbacks.Callback):
    """Per-epoch metrics to the trial's MLflow run (mlflow's autolog crashes on TF 2.21)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        mlflow.log_metrics({k: float(v) for k, v in (logs or {}).items()}, step=epoch)


def suggest(trial: optuna.Trial) -> dict[str, Any]:
    layers = trial.suggest_int("layers", 1, 3)
    return {
        "layers": layers,
        **{
            f"units_{i}": trial.suggest_categorical(f"units_{i}", fixed.UNITS)
            for i in range(layers)
        },
        "activation": trial.suggest_categorical("activation", fixed.ACTIVATIONS),
        "initializer": trial.suggest_categorical("initializer", fixed.INITIALIZERS),
        "dropout": trial.suggest_float("dropout", 0.0, 0.5),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True),
    }


def objective(
    arrays: fixed.Arrays, improvements: fixed.Improvements, parent: str, seed: int
) -> Any:
    monitor = fixed.objective_name(arrays.task)[0]

    def run_trial(trial: optuna.Trial) -> float:
        params = suggest(trial)
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed + trial.number)
        with mlflow.start_run(run_name=f"trial-{trial.number}", nested=True, parent_run_id=parent):
            mlflow.log_params(params)
            model = fixed.build(params, arrays)
            history = model.fit(
                arrays.x, arrays.y, epochs=fixed.EPOCHS, batch_size=fixed.BATCH, verbose=0,
                validation_split=fixed.VALIDATION_SPLIT,
                callbacks=[EpochLogger(), KerasPruningCallback(trial, monitor)],
            )  # fmt: skip
            value = float(history.history[monitor][-1])  # the kept model is the last epoch's
            mlflow.log_metric("value", value)
        improvements.offer(value, model)
        return value

    return run_trial


def main(folder: str, seed: str, budget: str, out: str) -> None:
    split = read_split(Path(folder))
    arrays = fixed.load_pool(split)
    work = Path(out).parent / "optuna-loop"
    work.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{work}/mlflow.db")
    mlflow.set_experiment("hand-loop")
    direction = fixed.objective_name(split.task)[1]
    study = optuna.create_study(
        direction="maximize" if direction == "max" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=int(seed)),
        pruner=optuna.pruners.MedianPruner(),
    )
    improvements = fixed.Improvements(work, direction)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    started = time.time()
    with mlflow.start_run(run_name="study") as parent:
        run_trial = objective(arrays, improvements, parent.info.run_id, int(seed))
        study.optimize(run_trial, timeout=float(budget))
    ended = time.time()
    states = [t.state for t in study.trials]
    complete = states.count(optuna.trial.TrialState.COMPLETE)
    finished = complete + states.count(optuna.trial.TrialState.PRUNED)  # each trained a model
    facts = {"started": started, "ended": ended, "trials": complete, "fits": finished}
    fixed.finish(Path(out), improvements, split, arrays, **facts)


if __name__ == "__main__":
    main(*sys.argv[1:])
