"""Where a trial's MLflow records are written: here and now, or by a helper process.

A trial's records (its parameters, per-epoch metrics, outcome and closing) cost four store
transactions, about 25 ms of Python on SQLite. Keras's `fit` of a small model needs the GIL
most of the time, so a thread cannot hide that cost: measured here, a background thread's
writes slowed a concurrent `fit` by more than they took alone. A second process on the other
core can: the trial pays a pickle and goes on. `BackgroundWriter` keeps one such process per
tune process (spawned, so it never inherits TensorFlow's threads; it imports MLflow, not
Keras) and applies the writes in the order they were given.

Writes are fire-and-forget until `drain()`, which waits for all of them and raises the
first failure; `submit()` raises a failure it has already seen, so a broken store stops
the study at the next trial, not at its end. A write's result (a new run's id) can be
saved under a key and passed to later writes as `Saved(key)` before it is known here;
`result()` waits for it when this process needs it too.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_for_all
from dataclasses import dataclass
from functools import cache
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any, Protocol

from spaces import StoreError, first_line

if TYPE_CHECKING:  # MLflow loads in the writer process, not in a process that only starts it
    from mlflow import MlflowClient

# A write, called as write(client, *args): a module-level function (pickled by name) whose
# module imports without Keras, such as those of search/stores/_records.py.
Write = Callable[..., Any]

# What MLflow's client reads from the environment to authenticate to a tracking server.
CREDENTIALS = (
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_TRACKING_INSECURE_TLS",
    "MLFLOW_TRACKING_SERVER_CERT_PATH",
)

# Results saved for later writes are dropped oldest first beyond this many; a trial's own
# writes come within one trial, long before.
MAX_SAVED = 1000


@dataclass(frozen=True)
class Saved:
    """Stands, in a write's arguments, for the result an earlier write saved under `key`."""

    key: str


class Writer(Protocol):
    """Applies MLflow writes in order, now or later."""

    def submit(self, write: Write, *args: Any, save_as: str | None = None) -> Future[Any]:
        """Apply `write(client, *args)`, now or after the writes before it.

        With `save_as`, its result stands in for `Saved(save_as)` in the writes after it.
        """

    def drain(self, strict: bool = True) -> None:
        """Wait until every submitted write is applied; with `strict`, raise the first failure."""


class InlineWriter:
    """Writes at once, in the caller; for processes whose cores are all busy training."""

    def __init__(self, client: MlflowClient) -> None:
        self.client = client

    def submit(self, write: Write, *args: Any, save_as: str | None = None) -> Future[Any]:
        """Apply the write now; its failure is raised here."""
        done: Future[Any] = Future()
        done.set_result(_apply_here(self.client, write, args, save_as))
        return done

    def drain(self, strict: bool = True) -> None:
        """Nothing is pending."""


class BackgroundWriter:
    """Hands writes to this process's writer process; they are applied in order."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        # Relative paths (a `sqlite:///mlruns/...` URI, MLflow's default artifact root) mean
        # what they meant here and now, wherever the writer or this process stands later.
        self.cwd = os.getcwd()
        # A writer started for an earlier run of this process keeps its first environment;
        # the credentials MLflow reads from it are those of the run that writes now.
        self.credentials = {k: os.environ[k] for k in CREDENTIALS if k in os.environ}
        self.pending: list[Future[Any]] = []
        _pool()  # starts the writer while the caller prepares its first trial

    def submit(self, write: Write, *args: Any, save_as: str | None = None) -> Future[Any]:
        """Queue the write; raise a failure of an earlier one."""
        self._settle(wait=False)
        try:
            future = _pool().submit(
                _apply, self.cwd, self.credentials, self.tracking_uri, write, args, save_as
            )
        except BrokenExecutor as exc:  # the writer process died (killed, out of memory)
            _pool.cache_clear()  # the next run of this process starts a new one
            raise _failure(exc) from exc
        self.pending.append(future)
        return future

    def drain(self, strict: bool = True) -> None:
        """Wait for every queued write; with `strict`, raise the first that failed."""
        self._settle(wait=True, strict=strict)

    def _settle(self, wait: bool, strict: bool = True) -> None:
        # Futures leave `pending` only once done: a Ctrl-C while waiting leaves the rest for
        # the next drain, so nothing is closed behind a write still on its way.
        if wait:
            wait_for_all(self.pending)
        done: list[Future[Any]] = []
        waiting: list[Future[Any]] = []
        for future in self.pending:  # one look each: a future may finish meanwhile
            (done if future.done() else waiting).append(future)
        self.pending = waiting
        errors = [error for error in map(_error, done) if error is not None]
        if errors and strict:
            raise _failure(errors[0]) from errors[0]


def result(future: Future[Any]) -> Any:
    """What a submitted write returned, once it has been applied.

    Raises:
        StoreError: The write failed.
    """
    try:
        return future.result()
    except Exception as exc:
        raise _failure(exc) from exc


def _error(future: Future[Any]) -> BaseException | None:
    try:
        return future.exception()
    except Exception as exc:  # the pool broke or was shut down under it
        return exc


def _failure(error: BaseException) -> StoreError:
    reason = first_line(error).rstrip(".")
    return StoreError(
        f"could not record trials in MLflow: {reason}. "
        "Check --tracking-uri and that the store is writable."
    )


def start() -> ProcessPoolExecutor:
    """Start this process's writer process now (once); it loads MLflow as it starts.

    Jobs submitted to it run there in order, before and between the writes.
    """
    return _pool()


@cache
def _pool() -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(
        max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_started
    )
    # The pool spawns its process on the first submit; this one also loads what the writes
    # need, so the first trial's records do not wait for the imports.
    pool.submit(_ready)
    return pool


# In the writer process.


def _started() -> None:
    # Ctrl-C reaches every process of the terminal's group; the writer must outlive it, so
    # the trials interrupted can still be closed with their reason.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # It shares the user's terminal: library chatter would break the progress bar, and a
    # failed write reaches the user through drain() as one line.
    warnings.simplefilter("ignore")
    _mute_loggers()
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()


def _exit_with(parent: BaseProcess) -> None:
    # The pool's queue keeps its own handles open in this process too, so the writer would
    # not see its parent die without saying goodbye (a kill -9, a test runner's os._exit)
    # and would wait for work forever. What it had not written belongs to dead trials,
    # which recovery closes.
    multiprocessing.connection.wait([parent.sentinel])
    os._exit(0)


def _ready() -> None:
    import search.stores._records
    import search.stores._storage  # noqa: F401

    _mute_loggers()  # again: MLflow sets its own logger's level as it loads


def _mute_loggers() -> None:
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _apply(
    cwd: str,
    credentials: dict[str, str],
    tracking_uri: str,
    write: Write,
    args: tuple[Any, ...],
    save_as: str | None,
) -> Any:
    if _cwd() != cwd:
        os.chdir(cwd)
    for key in CREDENTIALS:
        if key in credentials:
            os.environ[key] = credentials[key]
        else:
            os.environ.pop(key, None)
    return _apply_here(_client(cwd, tracking_uri), write, args, save_as)


# In the process that applies the writes (this one for InlineWriter): results by key.
_SAVED: dict[str, Any] = {}


def _apply_here(
    client: MlflowClient, write: Write, args: tuple[Any, ...], save_as: str | None
) -> Any:
    value = write(client, *(_SAVED[a.key] if isinstance(a, Saved) else a for a in args))
    if save_as is not None:
        _SAVED[save_as] = value
        while len(_SAVED) > MAX_SAVED:
            del _SAVED[next(iter(_SAVED))]
    return value


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except FileNotFoundError:  # the folder was removed since
        return None


@cache  # by folder too: there, a relative URI names another store
def _client(cwd: str, tracking_uri: str) -> MlflowClient:
    from mlflow import MlflowClient

    from search.stores._storage import relax_sqlite_sync

    relax_sqlite_sync()
    return MlflowClient(tracking_uri=tracking_uri)
