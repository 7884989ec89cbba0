"""Drives one `tune run` from a spec to a result, keeping stores consistent on every exit."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from objectives import score
from search.run._guards import FailureGuard
from search.run._helpers import HelperPool, helper_threads
from search.run._launcher import JobFactory, Launcher
from search.run._loop import optimize_here, optimize_share
from search.run._model_log import load_logged
from search.run._progress import Progress
from search.run._refit import Declined, Refit, refit_best
from search.run._samplers import make_sampler, process_seed
from search.run._setup import Setup, make_setup, open_stores, open_study, stored_family
from search.run._spec import StudySpec
from search.run._worker import configure_threads
from search.stores._first_open import study_turn
from search.stores._lookup import best_trial, find_baseline, fold_spread
from search.stores._names import FOLD_SCORES_ATTR, KEPT_EPOCHS_ATTR, MODEL_URI_ATTR, PARAMS_ATTR
from search.stores._recovery import owner_tag, recover
from search.stores._storage import mask_url, reach, sqlite_path
from search.stores._tracking import StudyRun, ensure_experiment, probe
from search.stores._writer import BackgroundWriter
from search.view._report import log_report
from spaces import TuneError


class Interrupted(TuneError):
    """The user pressed Ctrl-C; the study can be resumed by running the same command."""

    exit_code = 130


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
    validation: str = ""
    refit: dict[str, Any] | None = None
    refit_declined: str | None = None  # why the refit was not kept, when it was not
    notes: tuple[str, ...] = field(default=())


def run(
    spec: StudySpec,
    show_progress: bool = True,
    announce: Callable[[str], None] = print,
    helpers: HelperPool | None = None,
) -> RunResult:
    """Run a study as `spec` says and return its summary.

    Everything that can be checked is checked before a study or an MLflow run is created.

    Args:
        spec: The validated settings.
        show_progress: Draw a progress bar on stderr.
        announce: Receives the lines worth telling before the trials start.
        helpers: Under --workers N, helper processes started ahead (the CLI starts them
            before Keras loads); made here when not given.
    """
    setup = make_setup(spec, stored_family(spec))
    _announce_setup(setup, announce)
    # Both servers answer before either store is created, so a refused run leaves nothing.
    reach(setup.storage_url, "--storage")
    probe(setup.tracking_uri)
    storage, client = open_stores(setup)
    turn = study_turn(storage.engine, sqlite_path(setup.storage_url), setup.study_name)
    with turn:  # one textbook trial, however many start
        study = open_study(setup, storage)
    fresh = all(t.state == TrialState.WAITING for t in study.get_trials(deepcopy=False))
    sampler_seed = process_seed(spec.seed, fresh, owner_tag())
    study.sampler = make_sampler(spec.sampler, sampler_seed)
    experiment_id = ensure_experiment(client, setup.study_name, setup.tracking_uri)
    recovered = recover(study, client, experiment_id)
    if recovered:
        announce(f"Resumed: {recovered} trial(s) of a dead worker marked FAIL and retried once.")
    tags = {**setup.run_tags(), "tune.owner": owner_tag(), "tune.workers": spec.workers}
    tags["tune.sampler_seed"] = sampler_seed
    study_run = StudyRun.start(
        client, experiment_id, setup.study_name, tags, _writer(setup), setup.inputs()
    )
    started = time.monotonic()
    try:
        _optimize(study, setup, study_run, show_progress, sampler_seed, helpers)
        study_run.drain()  # every trial's records are in before the results are read
        result = finish(study, setup, study_run)  # the refit trains here: Ctrl-C stops it too
    except KeyboardInterrupt as exc:
        _close_after_stop(study, study_run, experiment_id, "KILLED")
        raise Interrupted(
            "interrupted; completed trials are saved. Run the same command again to resume."
        ) from exc
    except BaseException:
        _close_after_stop(study, study_run, experiment_id, "FAILED")
        raise
    if spec.timeout is not None and time.monotonic() - started >= spec.timeout:
        announce(f"Stopped at the --timeout of {spec.timeout:g} s; run the same command to go on.")
    if spec.report:
        for note in log_report(study, study_run.client, study_run.run_id):
            announce(f"Note: {note}")
    return result


def _writer(setup: Setup) -> BackgroundWriter | None:
    # Trials run here hand their records to a writer process: the CLI's head start has
    # started it while Keras loaded (search/stores/_ahead.py), else it starts now and loads
    # MLflow while the first trial trains. Worker processes write their own: every core is
    # training there, so one more process would only take turns with them.
    return BackgroundWriter(setup.tracking_uri) if setup.spec.workers == 1 else None


def _announce_setup(setup: Setup, announce: Callable[[str], None]) -> None:
    problem = setup.data.problem
    announce(f"Task: {problem.task} ({setup.data.task_reason})")
    announce(f"Family: {setup.choice.family} ({setup.choice.reason})")
    announce(
        f"Inputs: {problem.n_inputs}; power-of-two rule gives n0 = {problem.n0}; "
        f"metric: {setup.metric.name} ({setup.metric.direction})"
    )
    if setup.spec.cv != 1:
        announce(f"Validation: {setup.validation.describe()}")
    for note in setup.notes:
        announce(f"Note: {note}")
    for warning in setup.warnings:
        announce(f"Warning: {warning}")


def _close_after_stop(
    study: optuna.Study, study_run: StudyRun, experiment_id: str, status: str
) -> None:
    # What the trials handed over lands first; recovery then closes only what nobody will.
    study_run.drain(strict=False)
    recover(study, study_run.client, experiment_id)
    study_run.finish({}, status=status)


def _optimize(
    study: optuna.Study,
    setup: Setup,
    study_run: StudyRun,
    show_progress: bool,
    sampler_seed: int,
    helpers: HelperPool | None,
) -> None:
    spec = setup.spec
    progress = Progress(spec.trials, setup.metric.name, enabled=show_progress)
    try:
        if spec.workers == 1:
            guard = optimize_here(
                study, setup, study_run, spec.trials, spec.timeout, spec.seed, {}, progress
            )
            guard.check()
        else:
            pool = helpers or HelperPool(spec.backend, helper_threads(spec.workers))
            _optimize_in_workers(study, setup, study_run, progress, sampler_seed, pool)
    finally:
        progress.close()


def _optimize_in_workers(
    study: optuna.Study,
    setup: Setup,
    study_run: StudyRun,
    progress: Progress,
    sampler_seed: int,
    pool: HelperPool,
) -> None:
    def on_crash() -> None:
        recover(study, study_run.client, study_run.experiment_id)

    spec = setup.spec
    jobs = JobFactory(
        spec, setup.study_name, study_run.experiment_id, study_run.run_id, on_crash, sampler_seed
    )

    def inline(token: str, quota: int) -> FailureGuard:
        return optimize_share(
            study, setup, study_run, token, quota, spec.seed, jobs.deadline, pool.tickets
        )

    pool.tickets.reset(spec.trials)
    configure_threads(pool.threads)  # this process is one of the N workers sharing the cores
    Launcher(jobs, pool, study, progress).run(inline)


def finish(study: optuna.Study, setup: Setup, study_run: StudyRun) -> RunResult:
    """Score the model users get on the test split and close the parent run with the outcome.

    That model is the refit of the best configuration, or with --no-refit (one split only)
    the best trial's own.
    """
    best, baseline = best_trial(study), find_baseline(study)
    made = None
    if best is not None and setup.refits:
        made = refit_best(study, setup, best, study_run.run_id)
    refit = made if isinstance(made, Refit) else None
    declined = made.note(setup.metric.name) if isinstance(made, Declined) else None
    test_score = refit.test if refit else (_test_score(best, setup) if best else None)
    name = setup.metric.name
    metrics: dict[str, float] = {}
    if best is not None:
        metrics[f"best_{name}"] = float(best.value)  # type: ignore[arg-type]
        spread = fold_spread(best)
        if spread is not None:
            metrics[f"best_{name}_std"] = spread
    if test_score is not None:
        metrics[f"test_{name}"] = test_score
    if baseline is not None and baseline.value is not None:
        metrics[f"baseline_{name}"] = float(baseline.value)
    params = best.user_attrs.get(PARAMS_ATTR, best.params) if best is not None else None
    tags = _outcome_tags(best, refit)
    if declined:
        tags["tune.refit_declined"] = declined
    study_run.finish(metrics, params, tags)
    return _result(study, setup, study_run, best, baseline, test_score, refit, declined)


def _outcome_tags(best: FrozenTrial | None, refit: Refit | None) -> dict[str, Any]:
    tags: dict[str, Any] = {"tune.best_trial": best.number} if best is not None else {}
    if best is not None and MODEL_URI_ATTR in best.user_attrs:
        tags["tune.best_model_uri"] = best.user_attrs[MODEL_URI_ATTR]
    if refit is not None:
        tags.update({"tune.refit_trial": refit.trial, "tune.refit_rows": refit.rows})
        tags["tune.refit_draws"] = refit.draws
        tags["tune.refit_model_uri"] = refit.model_uri
    return tags


def _test_score(best: FrozenTrial, setup: Setup) -> float | None:
    uri = best.user_attrs.get(MODEL_URI_ATTR)
    if uri is None:
        return None
    model = load_logged(uri)
    splits = setup.data.splits
    return score(model, splits.x_test, splits.y_test, setup.metric, setup.data.problem.task)


def _result(
    study: optuna.Study,
    setup: Setup,
    study_run: StudyRun,
    best: FrozenTrial | None,
    baseline: FrozenTrial | None,
    test_score: float | None,
    refit: Refit | None = None,
    declined: str | None = None,
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
        validation=setup.validation.describe(),
        refit=refit.to_dict() if refit else None,
        refit_declined=declined,
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
        "std": fold_spread(trial),
        "folds": len(trial.user_attrs.get(FOLD_SCORES_ATTR) or []),
        "kept_epochs": trial.user_attrs.get(KEPT_EPOCHS_ATTR),
    }
