"""`tune run --workers N`: this process runs trials while N - 1 helper processes run more.

Keras state is per process and `clear_session` swaps it for every thread, so parallel trials
need processes. The launching process is one of the N workers: it has loaded Keras and
opened the study already, so its first trial starts as soon as a single worker's would. A
thread beside its trials keeps the helpers busy: it hands each a job, replaces (recycles) a
helper once its quota is done or its memory passes a threshold, so leaks cannot pile up, and
moves the progress bar. Trials are shared out by tickets (search/run/_helpers.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess

import optuna

from search.run._guards import FailureGuard, TooManyFailures
from search.run._helpers import CONTEXT, HelperPool
from search.run._progress import Progress
from search.run._spec import StudySpec
from search.run._worker import EXIT_INTERRUPTED, EXIT_TOO_MANY_FAILURES, WorkerJob
from search.stores._names import WORKER_ATTR
from spaces import TuneError

POLL_S = 0.5

# This process's own trials: (its worker token, its quota) -> the failure guard to check.
InlineTrials = Callable[[str, int], FailureGuard]


@dataclass
class _Slot:
    process: BaseProcess
    job: WorkerJob


class Launcher:
    """Runs this process's trials while a thread keeps N - 1 helpers busy until no ticket is left."""

    def __init__(
        self, jobs: JobFactory, pool: HelperPool, study: optuna.Study, progress: Progress
    ) -> None:
        self.jobs = jobs
        self.pool = pool
        self.tickets = pool.tickets
        self.study = study
        self.progress = progress
        self.slots: list[_Slot] = []
        self.crashes = 0  # helpers in a row that died before finishing a trial
        self.error: BaseException | None = None
        self._inline = threading.Event()  # set while this process runs trials itself
        self._stop = threading.Event()
        self._wake, self._waker = CONTEXT.Pipe(duplex=False)

    def run(self, inline: InlineTrials) -> None:
        """Run this process's trials and the helpers' until every ticket is spent."""
        self._inline.set()
        watcher = threading.Thread(target=self._watch, name="tune-launcher", daemon=True)
        watcher.start()
        guard = None
        try:
            if self.tickets.take():
                guard = inline(self.jobs.own_token, self.jobs.spec.recycle_after)
                if guard.tripped:
                    self.tickets.cancel()
            self._inline_done()
            while watcher.is_alive():
                watcher.join(POLL_S)  # in slices, so that Ctrl-C still lands here
        except BaseException:
            self._stop.set()
            self._inline_done()
            watcher.join()
            self._stop_all()
            raise
        finally:
            self.pool.close()
        if self.error is not None:
            raise self.error
        if guard is not None:
            guard.check()

    def _inline_done(self) -> None:
        self._inline.clear()
        self._waker.send_bytes(b"")  # the watcher refills this process's slot without delay

    def _watch(self) -> None:
        try:
            while not self._stop.is_set() and (self._inline.is_set() or self.slots or self._more()):
                self._fill()
                self._pause()
                self._reap()
                self._show()
        except BaseException as exc:  # raised again in the main thread, after this one ends
            self._fail(exc)

    def _more(self) -> bool:
        deadline = self.jobs.deadline
        if self.error is not None or (deadline is not None and time.time() >= deadline):
            return False
        return self.tickets.left > 0

    def _fill(self) -> None:
        capacity = self.jobs.workers - (1 if self._inline.is_set() else 0)
        while self._more() and len(self.slots) < capacity:
            helper = self.pool.take()
            job = self.jobs.next(self.jobs.spec.recycle_after)
            with contextlib.suppress(OSError):  # it died loading Keras; reaping it says how
                helper.hand(job)
            self.slots.append(_Slot(helper.process, job))

    def _pause(self) -> None:
        ready = wait([self._wake, *(s.process.sentinel for s in self.slots)], timeout=POLL_S)
        if self._wake in ready:
            self._wake.recv_bytes()

    def _reap(self) -> None:
        for slot in [s for s in self.slots if not s.process.is_alive()]:
            slot.process.join()
            self.slots.remove(slot)
            code = slot.process.exitcode
            if code == EXIT_TOO_MANY_FAILURES:
                self._fail(
                    TooManyFailures(
                        f"a worker saw {self.jobs.spec.max_failures} trials fail in a row; "
                        "fix the space or data, or raise --max-failures."
                    )
                )
            elif code == EXIT_INTERRUPTED:  # Ctrl-C, even where this process's was swallowed
                self._fail(KeyboardInterrupt())
            elif code != 0:
                self._crashed(slot, code)

    def _crashed(self, slot: _Slot, code: int | None) -> None:
        # The trial it died in never finished: its ticket goes to another worker.
        self.tickets.give_back(len(self._trials(False, slot.job.token)))
        self.jobs.on_crash()
        self.crashes = 0 if self._trials(True, slot.job.token) else self.crashes + 1
        if self.crashes >= self.jobs.spec.max_failures:
            self._fail(
                TuneError(
                    f"{self.crashes} helper processes in a row died before finishing a trial "
                    f"(exit code {code}); run with --workers 1 to see why."
                )
            )

    def _fail(self, error: BaseException) -> None:
        self.error = self.error or error
        self.tickets.cancel()

    def _trials(self, finished: bool, token: str | None = None) -> list[optuna.trial.FrozenTrial]:
        """This run's trials (one worker's, with `token`) that have or have not finished."""
        trials = []
        for trial in self.study.get_trials(deepcopy=False):
            owner = str(trial.user_attrs.get(WORKER_ATTR, ""))
            ours = owner == token if token else owner.startswith(self.jobs.prefix)
            if ours and trial.state.is_finished() == finished:
                trials.append(trial)
        return trials

    def _show(self) -> None:
        finished = len(self._trials(True))
        if finished > self.progress.bar.n:
            self.progress.advance(self.study, finished - self.progress.bar.n)

    def _stop_all(self) -> None:
        # Helpers end their current trial as FAIL and close its run on SIGINT, as on Ctrl-C.
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
        self.prefix = f"w{os.getpid()}-"  # every worker token of this run starts so
        self.own_token = f"{self.prefix}0"

    def next(self, quota: int) -> WorkerJob:
        """The job of the next helper to start."""
        self.count += 1
        return WorkerJob(
            spec=self.spec,
            study_name=self.study_name,
            experiment_id=self.experiment_id,
            parent_run_id=self.parent_run_id,
            quota=quota,
            token=f"{self.prefix}{self.count}",
            # Workers sharing a seed would sample the same points during TPE's start-up.
            seed=self.seed + 7919 * self.count,
            deadline=self.deadline,
        )
