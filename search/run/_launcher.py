"""`tune run --workers N`: N processes (never threads) optimise one study through its storage.

Keras state is per process and `clear_session` swaps it for every thread, so parallel trials
need processes. The launcher hands each worker a quota of trials and replaces (recycles) a
worker once its quota is done or its memory passes a threshold, so leaks cannot pile up.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

import optuna

from search.run._progress import Progress
from search.run._spec import StudySpec
from search.run._worker import EXIT_TOO_MANY_FAILURES, WorkerJob, worker_main
from search.stores._names import WORKER_ATTR

POLL_S = 0.5


@dataclass
class _Slot:
    process: BaseProcess
    job: WorkerJob


class Launcher:
    """Keeps N workers busy until the run's trials are spent, then reports how it ended."""

    def __init__(self, jobs: JobFactory, study: optuna.Study, progress: Progress) -> None:
        self.jobs = jobs
        self.study = study
        self.progress = progress
        self.context = multiprocessing.get_context("spawn")
        self.remaining = jobs.spec.trials
        self.slots: list[_Slot] = []
        self.failed_streak = False
        self.done = 0

    def run(self) -> None:
        """Spawn, watch and replace workers until every trial has run."""
        try:
            while self.remaining > 0 or self.slots:
                self._fill()
                time.sleep(POLL_S)
                self._reap()
                self._show()
        except BaseException:
            self._stop_all()
            raise

    def _fill(self) -> None:
        while self.remaining > 0 and len(self.slots) < self.jobs.workers and not self._stopping():
            free = self.jobs.workers - len(self.slots)
            quota = min(self.jobs.spec.recycle_after, math.ceil(self.remaining / free))
            job = self.jobs.next(quota)
            process = self.context.Process(target=worker_main, args=(job,), name=job.token)
            process.start()
            self.slots.append(_Slot(process, job))
            self.remaining -= quota

    def _stopping(self) -> bool:
        deadline = self.jobs.deadline
        if self.failed_streak or (deadline is not None and time.time() >= deadline):
            self.remaining = 0
            return True
        return False

    def _reap(self) -> None:
        for slot in [s for s in self.slots if not s.process.is_alive()]:
            slot.process.join()
            self.slots.remove(slot)
            ran = len(self._trials_of(slot.job.token))
            self.done += ran
            if not self._stopping():
                self.remaining += max(slot.job.quota - ran, 0)
            if slot.process.exitcode == EXIT_TOO_MANY_FAILURES:
                self.failed_streak = True
            elif slot.process.exitcode != 0:
                self.jobs.on_crash()

    def _trials_of(self, token: str) -> list[optuna.trial.FrozenTrial]:
        return [
            t
            for t in self.study.get_trials(deepcopy=False)
            if t.user_attrs.get(WORKER_ATTR) == token and t.state.is_finished()
        ]

    def _show(self) -> None:
        finished = self.done + sum(len(self._trials_of(s.job.token)) for s in self.slots)
        if finished > self.progress.bar.n:
            self.progress.advance(self.study, finished - self.progress.bar.n)

    def _stop_all(self) -> None:
        # Workers end their current trial as FAIL and close its run on SIGINT, as on Ctrl-C.
        for slot in self.slots:
            if slot.process.is_alive() and slot.process.pid is not None:
                os.kill(slot.process.pid, signal.SIGINT)
        for slot in self.slots:
            slot.process.join(timeout=30)
            if slot.process.is_alive():
                slot.process.kill()
                slot.process.join()


class JobFactory:
    """Numbers the workers of one run and gives each its own sampler seed."""

    def __init__(
        self,
        spec: StudySpec,
        study_name: str,
        experiment_id: str,
        parent_run_id: str,
        on_crash: Callable[[], None],
        seed: int | None = None,
    ) -> None:
        self.spec = spec
        self.workers = spec.workers
        self.study_name = study_name
        self.experiment_id = experiment_id
        self.parent_run_id = parent_run_id
        self.on_crash = on_crash
        self.seed = spec.seed if seed is None else seed  # this run's sampler seed
        self.count = 0
        self.deadline = None if spec.timeout is None else time.time() + spec.timeout
        self.threads = max(1, (os.cpu_count() or 1) // spec.workers)

    def next(self, quota: int) -> WorkerJob:
        """The job of the next worker to start."""
        self.count += 1
        return WorkerJob(
            spec=self.spec,
            study_name=self.study_name,
            experiment_id=self.experiment_id,
            parent_run_id=self.parent_run_id,
            quota=quota,
            token=f"w{os.getpid()}-{self.count}",
            # Workers sharing a seed would sample the same points during TPE's start-up.
            seed=self.seed + 7919 * self.count,
            threads=self.threads,
            deadline=self.deadline,
        )
