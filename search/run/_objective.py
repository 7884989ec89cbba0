"""The Optuna objective: sample a space, build, train, score, and log the trial to MLflow."""

from __future__ import annotations

import gc
import math
import time
from dataclasses import replace
from typing import Any

import optuna
import psutil
from mlflow.entities import Metric as LoggedMetric

from objectives import (
    Metric,
    PreparedData,
    build_model,
    forget_traced_gradients,
    fresh_session,
    train_model,
)
from objectives._folds import Fold
from search.run._crossval import CrossValidation
from search.run._epochs import EpochLogger
from search.run._interrupts import ctrl_c_pressed, defer_ctrl_c, stop_deferring
from search.run._model_log import log_model
from search.run._pruning import PruneCheck, PruningCallback
from search.stores._names import (
    FAIL_REASON_ATTR,
    KEPT_EPOCHS_ATTR,
    MODEL_URI_ATTR,
    PARAMS_ATTR,
    RUN_ID_ATTR,
)
from search.stores._records import TrialOutcome
from search.stores._tracking import StudyRun, TrialRun
from spaces import ConfigError, SpaceConfig, SpaceFamily, StoreError, TrialFailed, first_line

# Every this many trials a process also flushes TensorFlow's kernel cache, which keeps
# memory flat at the price of one slower trial (see objectives/_session.py).
FLUSH_KERNELS_EVERY = 20


class Objective:
    """Callable objective for `study.optimize`; one trial is one MLflow child run."""

    def __init__(
        self,
        data: PreparedData,
        family: SpaceFamily,
        config: SpaceConfig,
        metric: Metric,
        run: StudyRun,
        seed: int,
        trial_attrs: dict[str, Any] | None = None,
        folds: list[Fold] | None = None,
        keep: str = "last",
    ) -> None:
        self.data = data
        self.family = family
        self.config = config
        self.metric = metric
        self.run = run
        self.seed = seed
        self.trial_attrs = trial_attrs or {}
        self.fit_s = 0.0
        self.epochs: list[LoggedMetric] = []
        self.kept_epochs = 0
        self.trials_run = 0
        self.keep = keep
        self.cv = CrossValidation(folds, family, metric, keep) if folds else None

    def __call__(self, trial: optuna.Trial) -> float:
        stop_deferring()  # a press meanwhile is raised in the trial, which closes its run
        try:
            return self._trial(trial)
        finally:
            defer_ctrl_c()  # until Optuna has recorded the outcome; see search/run/_interrupts.py

    def _trial(self, trial: optuna.Trial) -> float:
        _release()
        run = self.run.start_trial(trial.number)
        started = time.perf_counter()
        self.fit_s, self.epochs, self.kept_epochs = 0.0, [], 0
        try:
            # Inside the try: a Ctrl-C that lands as soon as the run is asked for still ends
            # this trial, and its run, with its reason.
            for key, value in self.trial_attrs.items():
                trial.set_user_attr(key, value)
            params = self._suggest(trial, run)
            value, n_params = self._score(trial, params, run)
            _stop_if_ctrl_c()
            # The worker's memory shows in the MLflow UI, so growth over trials can be seen.
            outcome = TrialOutcome(
                "COMPLETE", value, duration_s=_since(started), n_params=n_params,
                rss_mb=_rss_mb(), kept_epochs=self.kept_epochs,
            )  # fmt: skip
            # Inside the try too: a Ctrl-C while the run is closed fails the trial there.
            self._end(trial, run, outcome)
        except optuna.TrialPruned:
            self._end(trial, run, TrialOutcome("PRUNED", duration_s=_since(started)))
            raise
        except BaseException as caught:
            # A Ctrl-C that a library turned into its own error is still a Ctrl-C.
            exc = KeyboardInterrupt() if ctrl_c_pressed() else caught
            reason = describe(exc)
            trial.set_user_attr(FAIL_REASON_ATTR, reason)
            outcome = TrialOutcome("FAIL", reason=reason, duration_s=_since(started))
            self._end(trial, run, outcome)
            if exc is not caught:
                raise exc from caught
            if isinstance(exc, Exception) and not isinstance(exc, (ConfigError, StoreError)):
                raise TrialFailed(reason) from exc
            raise  # Ctrl-C, a wrong configuration and a broken store stop the study
        return value

    def _end(self, trial: optuna.Trial, run: TrialRun, outcome: TrialOutcome) -> None:
        # The writer has mostly opened the run long before (a trial that fails early may
        # wait a moment); until now the run was found by its number (search/stores/_recovery.py).
        trial.set_user_attr(RUN_ID_ATTR, run.run_id)
        self.run.end_trial(run, replace(outcome, fit_s=self.fit_s), self.epochs)

    def _suggest(self, trial: optuna.Trial, run: TrialRun) -> dict[str, Any]:
        params = self.family.suggest(trial, self.data.problem, self.config)
        trial.set_user_attr(PARAMS_ATTR, params)
        self.run.log_params(run, params)
        return params

    def _score(
        self, trial: optuna.Trial, params: dict[str, Any], run: TrialRun
    ) -> tuple[float, int]:
        if self.cv is None:
            value, model = self._fit(trial, params, run)
            self._keep_if_best(trial, run, value, model)
            return value, int(model.count_params())
        try:
            return self.cv.score(trial, params, lambda first: self._reset(trial, first))
        finally:
            self.fit_s, self.epochs = self.cv.fit_s, self.cv.records()
            self.kept_epochs = self.cv.kept_epochs

    def _reset(self, trial: optuna.Trial, first: bool = True) -> None:
        # Every model of a trial starts from the trial's seed; the kernel cache is flushed
        # at most once a trial.
        if first:
            self.trials_run += 1
        keep = not first or self.trials_run % FLUSH_KERNELS_EVERY != 0
        fresh_session(self.seed + trial.number, keep)

    def _fit(self, trial: optuna.Trial, params: dict[str, Any], run: TrialRun) -> tuple[float, Any]:
        self._reset(trial)
        model = build_model(params, self.data.problem, family=self.family.builder)
        logger = EpochLogger(self.run.writer, run.ref)
        callbacks = [logger, PruningCallback(PruneCheck(trial), f"val_{self.metric.name}")]
        fit_started = time.perf_counter()
        try:
            trained = train_model(
                model,
                self.data.splits,
                params,
                callbacks,
                metric=self.metric,
                task=self.data.problem.task,
                keep=self.keep,
            )
        finally:
            self.fit_s = _since(fit_started)
            self.epochs = logger.take()  # written with the trial's outcome
        # The kept epoch's exact validation score is the trial's value: no second pass.
        value = trained.at_kept(f"val_{self.metric.name}")
        self.kept_epochs = trained.kept + 1
        trial.set_user_attr(KEPT_EPOCHS_ATTR, self.kept_epochs)
        if not math.isfinite(value):
            raise TrialFailed(f"the {self.metric.name} on validation is {value}")
        return value, model

    def _keep_if_best(self, trial: optuna.Trial, run: TrialRun, value: float, model: Any) -> None:
        if is_improvement(trial.study, value):
            sample = self.data.splits.x_val[:5]
            trial.set_user_attr(MODEL_URI_ATTR, log_model(run.run_id, model, sample))


def is_improvement(study: optuna.Study, value: float) -> bool:
    """Whether `value` beats every complete trial so far (in the study's direction)."""
    try:
        best = study.best_value
    except ValueError:  # no complete trial yet
        return True
    if study.direction == optuna.study.StudyDirection.MAXIMIZE:
        return value > best
    return value < best


def describe(exc: BaseException) -> str:
    """A one-line reason for a failed trial."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted by the user (Ctrl-C)"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {first_line(exc)}" if text else type(exc).__name__


def _rss_mb() -> float:
    return float(psutil.Process().memory_info().rss / 2**20)


def _since(started: float) -> float:
    return time.perf_counter() - started


def _release() -> None:
    # Runs as a trial starts, when all of the last trial (its model, a pruning or failure
    # exception and the frames it holds) is garbage; collected at the end of that trial
    # instead, whatever was still referenced would be frozen below and leak. What survives
    # a full collection is long-lived (modules, data, caches); freezing it keeps each
    # collection to one trial's objects, a few ms instead of a walk over all of TensorFlow.
    # TensorFlow's registry of custom gradients would keep the last trial's traced graphs.
    forget_traced_gradients()
    gc.collect()
    gc.freeze()


def _stop_if_ctrl_c() -> None:
    """Raise the Ctrl-C that Python swallowed: a KeyboardInterrupt raised while a garbage
    collector callback runs (JAX installs one) is only printed as "Exception ignored"."""
    if ctrl_c_pressed():
        raise KeyboardInterrupt
