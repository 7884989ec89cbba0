"""The least a default trial can spend outside Keras fit with tune's engines (issue 2's 5 %).

Calls Optuna, MLflow and Keras directly, without tune's objective, and only what any trial
of the default study needs whatever the code around it:
  - Optuna: ask, the dense space's suggestions, one user attribute (the trial's MLflow run,
    which workers need to close the runs of a dead worker's trials) and tell;
  - MLflow: the child run created under the parent, written once (parameters, per-epoch
    metrics and outcome in one batch) and closed;
  - Keras: a fresh session, the model built and compiled (new widths are new variable
    shapes, whose TensorFlow kernels are created on first use, as in a real study);
  - Python: the last trial's garbage collected;
  - the stores configured as tune configures them (SQLite in write-ahead-log mode, no
    fsync after each commit).
Each model is then trained as tune trains it (exact validation, pruning callback), and the
textbook trial goes first with tune's default seed, so the trials are those of a default
`tune run` and the floor is set against the same trial lengths. No heartbeats, no progress bar, no model
logging, nothing done twice. If this floor is near or above 5 % of a trial, tune cannot
meet the target by changing its own code, only by the engines doing less per call.

    .venv/bin/python bench/trial_floor.py [--trials 20]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import optuna
from _common import median, private_stores, report, trial_seconds
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from optuna_integration import KerasPruningCallback

from objectives import (
    Metric as TuneMetric,
)
from objectives import (
    PreparedData,
    build_model,
    fresh_session,
    get_metric,
    prepare,
    train_model,
)
from search._pruners import make_pruner
from search._spec import StudySpec
from search._storage import ensure_parent
from spaces import SpaceConfig, TrialFailed
from spaces._dense import dense_baseline, dense_space

# tune's default seed, for its splits, its sampler and each trial's weights (seed + number).
SEED = StudySpec().seed
SPENT: defaultdict[str, list[float]] = defaultdict(list)
PHASES = (
    "Optuna ask",
    "garbage collection",
    "MLflow run start",
    "Optuna user attribute",
    "Optuna suggestions",
    "Keras build + compile",
    "Keras fit",
    "MLflow run write + close",
    "Optuna tell",
)


@contextmanager
def phase(name: str) -> Iterator[None]:
    """Add the block's seconds to the phase's entry for the current trial."""
    started = time.perf_counter()
    try:
        yield
    finally:
        SPENT[name][-1] += time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    data = prepare("breast_cancer", seed=SEED)
    with private_stores() as (storage_url, tracking_uri):
        # The stores as tune configures them: write-ahead log, no fsync after each commit.
        ensure_parent(storage_url)
        ensure_parent(tracking_uri)
        metric = get_metric("accuracy", data.problem.task)
        study = optuna.create_study(
            storage=optuna.storages.RDBStorage(storage_url),
            sampler=optuna.samplers.TPESampler(seed=SEED),
            pruner=make_pruner("median"),
            direction=metric.direction,  # type: ignore[arg-type]
        )
        # As tune does: the textbook trial first, so with the same seed the same trials follow.
        study.enqueue_trial(dense_baseline(data.problem, SpaceConfig()))
        client = MlflowClient(tracking_uri)
        experiment = client.create_experiment("floor")
        parent = client.create_run(experiment).info.run_id
        for number in range(args.trials):
            for name in PHASES:
                SPENT[name].append(0.0)
            one_trial(study, client, experiment, parent, data, metric, number)
        windows = [trial_seconds(t) for t in study.get_trials(deepcopy=False)]
    _report(windows)


def one_trial(
    study: optuna.Study,
    client: MlflowClient,
    experiment: str,
    parent: str,
    data: PreparedData,
    metric: TuneMetric,
    number: int,
) -> None:
    """The engine calls of one trial, each timed under its phase."""
    with phase("Optuna ask"):
        trial = study.ask()
    # Inside the trial, as in tune: the last trial's model is torn down here (TensorFlow
    # frees its variables and functions), work that belongs to some trial.
    with phase("garbage collection"):
        _collect()
    with phase("MLflow run start"):
        run_id = _start_run(client, experiment, parent, number)
    with phase("Optuna user attribute"):
        trial.set_user_attr("mlflow_run_id", run_id)
    with phase("Optuna suggestions"):
        params = dense_space(trial, data.problem, SpaceConfig())
    with phase("Keras build + compile"):
        fresh_session(SEED + number)
        model = build_model(params, data.problem)
    callbacks = [KerasPruningCallback(trial, f"val_{metric.name}")]
    history: dict[str, list[float]] = {}
    value, state = None, optuna.trial.TrialState.COMPLETE
    try:
        with phase("Keras fit"):
            history = train_model(
                model, data.splits, params, callbacks, metric=metric, task=data.problem.task
            )
        value = history[f"val_{metric.name}"][-1]
    except optuna.TrialPruned:
        state = optuna.trial.TrialState.PRUNED
    except TrialFailed:
        state = optuna.trial.TrialState.FAIL
    del model
    with phase("MLflow run write + close"):
        _end_run(client, run_id, params, history, value, state.name)
    with phase("Optuna tell"):
        study.tell(trial, value, state=state)


def _collect() -> None:
    gc.collect()
    gc.freeze()


def _start_run(client: MlflowClient, experiment: str, parent: str, number: int) -> str:
    tags = {"mlflow.parentRunId": parent, "tune.role": "trial", "tune.trial": str(number)}
    return str(client.create_run(experiment, run_name=f"trial-{number:04d}", tags=tags).info.run_id)


def _end_run(
    client: MlflowClient,
    run_id: str,
    params: dict[str, Any],
    history: dict[str, list[float]],
    value: float | None,
    state: str,
) -> None:
    stamp = int(time.time() * 1000)
    epochs = [
        Metric(key, float(v), stamp, step)
        for key, values in history.items()
        for step, v in enumerate(values)
    ]
    outcome = {"duration_s": 1.0, "fit_s": 1.0, "n_params": 1.0}
    if value is not None:
        outcome["value"] = value
    client.log_batch(
        run_id,
        params=[Param(k, str(v)) for k, v in params.items()],
        metrics=[*epochs, *(Metric(k, v, stamp, 0) for k, v in outcome.items())],
        tags=[RunTag("tune.state", state)],
    )
    client.set_terminated(run_id, "FINISHED")


def _report(windows: list[float]) -> None:
    # As bench/trial_overhead.py counts: a trial is Optuna's span from its creation (inside
    # ask) to its end (inside tell); the rest of ask and tell is between trials.
    fits = SPENT["Keras fit"]
    outside = [w - f for w, f in zip(windows, fits, strict=True)]
    rows: list[tuple[str, Any]] = [
        (f"{phase} (ms, median)", 1000 * median(SPENT[phase])) for phase in PHASES
    ]
    rows += [
        ("trial, creation to end (ms, median)", 1000 * median(windows)),
        ("outside fit: the floor (ms, median)", 1000 * median(outside)),
        (
            "floor's median share of a trial",
            median([o / w for o, w in zip(outside, windows, strict=True)]),
        ),
        ("floor's share, all trials", sum(outside) / sum(windows)),
        ("target", "< 5% outside fit"),
    ]
    report(f"engine floor: breast_cancer, {len(windows)} trials, no tune objective", rows)


if __name__ == "__main__":
    main()
