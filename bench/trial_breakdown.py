"""Where does a trial's time go? Milliseconds per trial of each phase of the default study.

Wraps tune's and the libraries' entry points with timers (this script only), runs the
default study in-process and prints, for each phase, the median over trials of its time
in a trial and its mean per trial (the mean holds the rare costs: the first trial's
one-time set-up, and model logging, which only a trial that becomes the best pays).
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

from _common import (
    finished_trials,
    load_tune,
    median,
    private_stores,
    report,
    timed_run,
    trial_seconds,
)

from search.run._spec import StudySpec

# SPENT[label][i]: seconds of the phase in the i-th trial (counted from each Optuna ask).
SPENT: defaultdict[str, defaultdict[int, float]] = defaultdict(lambda: defaultdict(float))
CALLS: Counter[str] = Counter()
TRIAL = [0]

ASK = "Optuna ask"
REPORT = "      Optuna report (a store write)"
CHECK = "      pruning check"
# Seconds of each call, for the phases that issue #16 states per epoch.
PER_CALL: defaultdict[str, list[float]] = defaultdict(list)


def phases() -> list[tuple[Any, str, str]]:
    """(owner, attribute, label): what is timed. Imported here, not at load (see load_tune)."""
    import optuna

    import objectives._validation as validation
    import search.run._objective as trial_module
    import search.run._pruning as pruning
    import search.stores._tracking as tracking

    return [
        (trial_module.Objective, "__call__", "objective (all but ask/tell)"),
        (trial_module, "train_model", "  Keras fit"),
        (pruning.PruningCallback, "on_epoch_end", "    report + pruning check"),
        (pruning.PruneCheck, "report", REPORT),
        (pruning.PruneCheck, "should_prune", CHECK),
        (validation.EpochValidation, "on_epoch_end", "    exact validation"),
        (trial_module.Objective, "_suggest", "  sampling (+ params to the writer)"),
        (optuna.samplers.TPESampler, "infer_relative_search_space", "    TPE search space"),
        (optuna.samplers.TPESampler, "sample_relative", "    TPE joint sampling"),
        (optuna.samplers.TPESampler, "sample_independent", "    TPE one-parameter sampling"),
        (optuna.storages.RDBStorage, "_set_trial_param", "    Optuna parameter writes"),
        (trial_module, "fresh_session", "  Keras session reset + seeding"),
        (trial_module, "build_model", "  model building"),
        (trial_module, "is_improvement", "  best-so-far check"),
        (tracking.StudyRun, "start_trial", "  MLflow child run start (to the writer)"),
        (tracking.StudyRun, "end_trial", "  MLflow child run end (to the writer)"),
        (trial_module, "log_model", "  best-so-far model logging"),
        (optuna.trial.Trial, "set_user_attr", "  Optuna user attributes"),
        (trial_module, "_release", "  garbage collection"),
        (optuna.Study, "ask", ASK),
        (optuna.study._optimize, "_tell_with_warning", "Optuna tell"),
    ]


def _timed(function: Callable[..., Any], label: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent = time.perf_counter() - started
            SPENT[label][TRIAL[0]] += spent
            PER_CALL[label].append(spent)
            CALLS[label] += 1
            if label == ASK:
                TRIAL[0] += 1

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    load_tune()
    timed = phases()
    for owner, name, label in timed:
        setattr(owner, name, _timed(getattr(owner, name), label))
    with private_stores() as (storage, tracking_uri):
        wall = timed_run(StudySpec(trials=args.trials, storage=storage, tracking_uri=tracking_uri))
        trials = finished_trials(storage, "breast_cancer")
    n = len(trials)
    seconds = [trial_seconds(t) for t in trials]
    rows: list[tuple[str, Any]] = [
        ("wall time of the run (s)", wall),
        ("trial, creation to end (ms)", _both(seconds)),
    ]
    for _, _, label in timed:
        # Phases are filed under the number of asks so far, so trial i is under i + 1 but
        # its own ask, which counts before it ends, is under i.
        per_trial = [SPENT[label].get(i + (label != ASK), 0.0) for i in range(n)]
        rows.append((f"{label} ({CALLS[label]} calls)", _both(per_trial)))
    report(f"default study: breast_cancer, {n} trials, ms per trial: median / mean", rows)
    epochs = [(label.strip(), _both(PER_CALL[label])) for label in (REPORT, CHECK)]
    report("per epoch, ms: median / mean", epochs)


def _both(values: list[float]) -> str:
    return f"{1000 * median(values):7.1f} / {1000 * sum(values) / len(values):7.1f}"


if __name__ == "__main__":
    main()
