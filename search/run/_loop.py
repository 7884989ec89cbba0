"""The in-process trial loop, which the runner and every worker process call.

It sits below both, so a worker process never imports the runner that launched it.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial

from objectives._folds import cv_folds
from search.run._guards import FailureGuard, MemoryGuard
from search.run._interrupts import raise_deferred_ctrl_c, remembering_ctrl_c
from search.run._model_log import warm_up_model_logging
from search.run._objective import Objective
from search.run._progress import Progress
from search.run._setup import Setup
from search.stores._names import OWNER_ATTR, WORKER_ATTR
from search.stores._recovery import owner_tag
from search.stores._tracking import StudyRun
from spaces import TrialFailed

if TYPE_CHECKING:
    from search.run._helpers import Tickets


def optimize_here(
    study: optuna.Study,
    setup: Setup,
    study_run: StudyRun,
    n_trials: int,
    timeout: float | None,
    seed: int,
    attrs: dict[str, Any],
    progress: Progress | None = None,
    memory_limit_mb: float | None = None,
    tickets: Tickets | None = None,
) -> FailureGuard:
    """Run trials one after another in this process; returns the failure guard to check.

    With `memory_limit_mb`, the run stops early once the process's memory passes it (a
    worker, which the launcher then replaces). With `tickets` (under --workers N), the
    caller holds the first trial's ticket and each further trial takes one; `n_trials` is
    then this process's quota.
    """
    spec = setup.spec
    objective = Objective(
        setup.data,
        setup.family,
        spec.effective_space,
        setup.metric,
        study_run,
        seed,
        {**attrs, OWNER_ATTR: owner_tag()},
        folds=cv_folds(setup.data, setup.validation.k, spec.seed)
        if setup.validation.crossed
        else None,
        keep=spec.keep_epoch,
    )
    guard = FailureGuard(spec.max_failures)
    guards: list[FailureGuard | MemoryGuard] = [guard]
    guards += [MemoryGuard(memory_limit_mb)] if memory_limit_mb is not None else []
    callbacks: list[Callable[[optuna.Study, FrozenTrial], None]] = [*guards]
    callbacks += [progress] if progress is not None else []
    if tickets is not None:  # after the guards: it must see whether one stopped the study
        callbacks.append(NextTicket(tickets, n_trials, guards))
    callbacks.append(raise_deferred_ctrl_c)  # last: every other callback has seen the trial
    warm_up_model_logging()
    # Everything alive now (modules, data) lives for the whole run; freezing it keeps the
    # per-trial garbage collection from walking TensorFlow's object graph each time.
    gc.freeze()
    with remembering_ctrl_c():
        study.optimize(
            objective, n_trials=n_trials, timeout=timeout, catch=(TrialFailed,), callbacks=callbacks
        )
    return guard


def optimize_share(
    study: optuna.Study,
    setup: Setup,
    study_run: StudyRun,
    token: str,
    quota: int,
    seed: int,
    deadline: float | None,
    tickets: Tickets,
) -> FailureGuard:
    """One worker's share of a --workers N run: trials while tickets last, `quota` at most.

    The caller holds the first trial's ticket. Trials carry the worker's `token`.
    """
    timeout = None if deadline is None else max(deadline - time.time(), 0.0)
    return optimize_here(
        study, setup, study_run, quota, timeout, seed, {WORKER_ATTR: token},
        memory_limit_mb=setup.spec.max_rss_mb, tickets=tickets,
    )  # fmt: skip


class NextTicket:
    """Takes the ticket for this process's next trial, or stops the study when none is left."""

    def __init__(
        self, tickets: Tickets, quota: int, guards: list[FailureGuard | MemoryGuard]
    ) -> None:
        self.tickets = tickets
        self.quota = quota
        self.guards = guards
        self.ran = 0

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.ran += 1
        if self.ran >= self.quota or any(g.tripped for g in self.guards):
            return  # this process stops here; its next ticket stays for another
        if not self.tickets.take():
            study.stop()
