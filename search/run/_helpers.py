"""The helper processes of `tune run --workers N`, and the trial tickets they share.

With N workers the launching process runs trials itself and N - 1 helpers run the rest. A
helper spends most of its start-up importing Keras and MLflow, so the CLI starts them first
thing (`HelperPool.prestart`), before it loads Keras itself: they import while the launching
process reads the data and opens the stores, instead of after. A helper waits for its job on
a pipe; one that never gets one (a refused run) is stopped when the pool closes.

Every process of a run takes a ticket from `Tickets` before each trial, so the trials are
shared out as they go: whoever is free takes the next, and no process sits idle while
another still has a quota to work through.

This module imports nothing heavy, so the CLI can start helpers before anything else loads.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from search.run._worker import WorkerJob

CONTEXT = multiprocessing.get_context("spawn")  # Keras state does not survive a fork


class Tickets:
    """How many trials of the run are still to start; shared by all of the run's processes."""

    def __init__(self) -> None:
        self._left = CONTEXT.Value("i", 0)

    @property
    def left(self) -> int:
        """Tickets not yet taken."""
        return int(self._left.value)

    def reset(self, count: int) -> None:
        """Put `count` tickets up for taking."""
        with self._left.get_lock():
            self._left.value = count

    def take(self) -> bool:
        """Take the ticket for one more trial; False when there is none left."""
        with self._left.get_lock():
            if self._left.value <= 0:
                return False
            self._left.value -= 1
            return True

    def give_back(self, count: int) -> None:
        """Return tickets whose trials never finished (their process died)."""
        with self._left.get_lock():
            self._left.value += count

    def cancel(self) -> None:
        """Take every ticket left, so that no process starts another trial."""
        self.reset(0)


@dataclass
class Helper:
    """One helper process and the launching process's end of its pipe."""

    process: BaseProcess
    pipe: Connection

    def hand(self, job: WorkerJob) -> None:
        """Give the helper its job; it starts trials once its imports are done."""
        self.pipe.send(job)
        self.pipe.close()


class HelperPool:
    """Starts helper processes, some ahead of need, for one run."""

    def __init__(self, backend: str, threads: int) -> None:
        self.backend = backend
        self.threads = threads
        self.tickets = Tickets()
        self.waiting: list[Helper] = []

    def prestart(self, count: int) -> None:
        """Start `count` helpers now; `take` hands them out first."""
        self.waiting += [self._start() for _ in range(count)]

    def take(self) -> Helper:
        """A started helper with no job yet: one started ahead, or a new one."""
        return self.waiting.pop(0) if self.waiting else self._start()

    def close(self) -> None:
        """Stop the helpers that never got a job (the run was refused or stopped early)."""
        for helper in self.waiting:
            helper.pipe.close()
            helper.process.terminate()
        for helper in self.waiting:
            helper.process.join()
        self.waiting = []

    def _start(self) -> Helper:
        from search.run._worker import helper_main

        reader, writer = CONTEXT.Pipe(duplex=False)
        process = CONTEXT.Process(
            target=helper_main, args=(reader, self.tickets, self.backend, self.threads)
        )
        process.start()
        reader.close()  # the helper holds its own copy; closing the writer is its EOF
        return Helper(process, writer)


def helper_threads(workers: int) -> int:
    """Threads per worker process, so that N workers share the cores instead of each taking all."""
    return max(1, (os.cpu_count() or 1) // workers)


@contextmanager
def started_helpers(backend: str, workers: object) -> Iterator[HelperPool | None]:
    """For `workers` > 1, a pool with N - 1 helpers started now; they stop with the block."""
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 2:
        yield None  # one worker, or a value the spec will refuse
        return
    pool = HelperPool(backend, helper_threads(workers))
    try:
        pool.prestart(workers - 1)
        yield pool
    finally:
        pool.close()
