"""Where does a trial's time go? Milliseconds per trial of each phase of the default study.

Wraps tune's and the libraries' entry points with timers (this script only), runs the
default study in-process and prints each phase's total divided by the number of trials.
Phases nest: the objective holds all the others but ask and tell, Keras fit holds the
per-epoch callbacks. A trial's time (creation to end, as Optuna stamps it) starts inside
ask and ends inside tell. Use it to see what bench/trial_overhead.py's share is made of.

    .venv/bin/python bench/trial_breakdown.py [--trials 20]
"""

from __future__ import annotations

import argparse
import functools
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import optuna
import optuna_integration
from _common import finished_trials, private_stores, report, timed_run, trial_seconds

import objectives._validation as validation
import search._tracking as tracking
import search._trial as trial_module
from search._spec import StudySpec

SPENT: defaultdict[str, float] = defaultdict(float)
CALLS: Counter[str] = Counter()

# (owner, attribute, label): what is timed.
PHASES: list[tuple[Any, str, str]] = [
    (trial_module.Objective, "__call__", "objective (all but ask/tell)"),
    (trial_module, "train_model", "  Keras fit"),
    (optuna_integration.KerasPruningCallback, "on_epoch_end", "    Optuna report + prune check"),
    (validation.EpochValidation, "on_epoch_end", "    exact validation"),
    (trial_module.Objective, "_suggest", "  sampling (+ params to MLflow)"),
    (tracking.StudyRun, "log_params", "    params to MLflow"),
    (trial_module, "build_model", "  model building"),
    (tracking.StudyRun, "start_trial", "  MLflow child run start"),
    (tracking.StudyRun, "end_trial", "  MLflow child run end"),
    (tracking.StudyRun, "log_model", "  best-so-far model logging"),
    (optuna.trial.Trial, "set_user_attr", "  Optuna user attributes"),
    (trial_module, "_release", "  garbage collection"),
    (optuna.Study, "ask", "Optuna ask"),
    (optuna.study._optimize, "_tell_with_warning", "Optuna tell"),
]


def _timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[label] += time.perf_counter() - started
            CALLS[label] += 1

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    for owner, name, label in PHASES:
        setattr(owner, name, _timed(getattr(owner, name), label))
    with private_stores() as (storage, tracking_uri):
        wall = timed_run(StudySpec(trials=args.trials, storage=storage, tracking_uri=tracking_uri))
        trials = finished_trials(storage, "breast_cancer")
    n = len(trials)
    rows: list[tuple[str, Any]] = [
        ("wall time of the run (s)", wall),
        ("trial, creation to end (ms/trial)", 1000 * sum(map(trial_seconds, trials)) / n),
    ]
    rows += [(f"{label} (ms/trial, {CALLS[label]} calls)", 1000 * SPENT[label] / n)
             for _, _, label in PHASES]  # fmt: skip
    report(f"default study: breast_cancer, {n} trials, per-phase time", rows)


if __name__ == "__main__":
    main()
