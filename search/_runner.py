"""Drives one `tune run` from a spec to a result, keeping stores consistent on every exit."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mlflow
import optuna
from optuna.trial import FrozenTrial, TrialState

from objectives import score
from search._progress import Progress
from search._spec import StudySpec
from search._storage import mask_url, open_storage
from search._study import Setup, baseline_trial, best_trial, check_existing, make_setup, open_study
from search._tracking import StudyRun, connect, ensure_experiment
from search._trial import FAIL_REASON_ATTR, MODEL_URI_ATTR, PARAMS_ATTR, Objective
from spaces import TrialFailed, TuneError


class Interrupted(TuneError):
    """The user pressed Ctrl-C; the study can be resumed by running the same command."""

    exit_code = 130


class TooManyFailures(TuneError):
    """Trials kept failing in a row, so the search stopped."""


@dataclass(frozen=True)
class RunResult:
    """What a finished `tune run` reports."""

    study_name: str
    experiment_id: str
    parent_run_id: str
    tracking_uri: str
    storage: str
    task: str
    task_reason: str
    metric: str
    direction: str
    states: dict[str, int]
    best: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    test_score: float | None = None
    notes: tuple[str, ...] = field(default=())


class FailureGuard:
    """Stops the study after `limit` failed trials in a row."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.streak = 0
        self.last_reason = ""

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.state != TrialState.FAIL:
            self.streak = 0
            return
        self.streak += 1
        self.last_reason = str(trial.user_attrs.get(FAIL_REASON_ATTR, "unknown"))
        if self.streak >= self.limit:
            study.stop()

    def check(self) -> None:
        """Raise if the guard stopped the study."""
        if self.streak >= self.limit:
            raise TooManyFailures(
                f"{self.streak} trials failed in a row (last: {self.last_reason}); "
                "fix the space or data, or raise --max-failures."
            )


def run(
    spec: StudySpec, show_progress: bool = True, announce: Callable[[str], None] = print
) -> RunResult:
    """Run a study as `spec` says and return its summary.

    Everything that can be checked is checked before a study or an MLflow run is created.

    Args:
        spec: The validated settings.
        show_progress: Draw a progress bar on stderr.
        announce: Receives the lines worth telling before the trials start.
    """
    setup = make_setup(spec)
    problem = setup.data.problem
    announce(f"Task: {problem.task} ({setup.data.task_reason})")
    announce(
        f"Inputs: {problem.n_inputs}; power-of-two rule gives n0 = {problem.n0}; "
        f"metric: {setup.metric.name} ({setup.metric.direction})"
    )
    for note in setup.data.notes:
        announce(f"Note: {note}")
    storage = open_storage(setup.storage_url)
    client = connect(setup.tracking_uri)
    check_existing(setup, storage)
    study = open_study(setup, storage)
    experiment_id = ensure_experiment(client, setup.study_name, setup.tracking_uri)
    study_run = StudyRun.start(client, experiment_id, setup.study_name, setup.run_tags())
    try:
        optimize(study, setup, study_run, show_progress)
    except KeyboardInterrupt as exc:
        study_run.finish({}, status="KILLED")
        raise Interrupted(
            "interrupted; completed trials are saved. Run the same command again to resume."
        ) from exc
    except BaseException:
        study_run.finish({}, status="FAILED")
        raise
    return finish(study, setup, study_run)


def optimize(study: optuna.Study, setup: Setup, study_run: StudyRun, show_progress: bool) -> None:
    """Run `spec.trials` trials in this process (one at a time: Keras state is per process)."""
    spec = setup.spec
    objective = Objective(
        setup.data,
        setup.family,
        spec.space,
        spec.effective_space,
        setup.metric,
        study_run,
        spec.seed,
    )
    # Everything alive now (modules, data) lives for the whole run; freezing it keeps the
    # per-trial garbage collection from walking TensorFlow's object graph each time.
    gc.freeze()
    guard = FailureGuard(spec.max_failures)
    progress = Progress(spec.trials, setup.metric.name, enabled=show_progress)
    try:
        study.optimize(
            objective,
            n_trials=spec.trials,
            timeout=spec.timeout,
            catch=(TrialFailed,),
            callbacks=[guard, progress],
        )
    finally:
        progress.close()
    guard.check()


def finish(study: optuna.Study, setup: Setup, study_run: StudyRun) -> RunResult:
    """Score the best model on the test split and close the parent run with the outcome."""
    best, baseline = best_trial(study), baseline_trial(study)
    test_score = _test_score(best, setup) if best is not None else None
    metrics: dict[str, float] = {}
    if best is not None:
        metrics[f"best_{setup.metric.name}"] = float(best.value)  # type: ignore[arg-type]
    if test_score is not None:
        metrics[f"test_{setup.metric.name}"] = test_score
    if baseline is not None and baseline.value is not None:
        metrics[f"baseline_{setup.metric.name}"] = float(baseline.value)
    tags = {"tune.best_trial": best.number} if best is not None else {}
    if best is not None and MODEL_URI_ATTR in best.user_attrs:
        tags["tune.best_model_uri"] = best.user_attrs[MODEL_URI_ATTR]
    params = best.user_attrs.get(PARAMS_ATTR, best.params) if best is not None else None
    study_run.finish(metrics, params, tags)
    return _result(study, setup, study_run, best, baseline, test_score)


def _test_score(best: FrozenTrial, setup: Setup) -> float | None:
    uri = best.user_attrs.get(MODEL_URI_ATTR)
    if uri is None:
        return None
    model = mlflow.keras.load_model(uri)
    splits = setup.data.splits
    return score(model, splits.x_test, splits.y_test, setup.metric, setup.data.problem.task)


def _result(
    study: optuna.Study,
    setup: Setup,
    study_run: StudyRun,
    best: FrozenTrial | None,
    baseline: FrozenTrial | None,
    test_score: float | None,
) -> RunResult:
    states: dict[str, int] = {}
    for trial in study.get_trials(deepcopy=False):
        states[trial.state.name] = states.get(trial.state.name, 0) + 1
    return RunResult(
        study_name=setup.study_name,
        experiment_id=study_run.experiment_id,
        parent_run_id=study_run.run_id,
        tracking_uri=mask_url(setup.tracking_uri),
        storage=mask_url(setup.storage_url),
        task=setup.data.problem.task,
        task_reason=setup.data.task_reason,
        metric=setup.metric.name,
        direction=setup.metric.direction,
        states=states,
        best=_trial_summary(best),
        baseline=_trial_summary(baseline),
        test_score=test_score,
        notes=setup.data.notes,
    )


def _trial_summary(trial: FrozenTrial | None) -> dict[str, Any] | None:
    if trial is None:
        return None
    return {
        "number": trial.number,
        "state": trial.state.name,
        "value": trial.value,
        "params": trial.user_attrs.get(PARAMS_ATTR, trial.params),
    }
