"""What the writer process prepares while `tune run` imports Keras: a head start.

Importing Keras takes seconds of one core, and the writer process (search/stores/_writer.py)
would otherwise start only once the stores are open. `head_start` starts it first thing, and
before its first write it does two jobs the launching process would do later, one after the
other, on its own core:

- it creates a new SQLite tracking store (MLflow's schema migrations, most of a second) in a
  scratch folder; `adopt` moves that file into place when `connect` finds no store there, so
  the launching process opens a migrated store instead of migrating one;
- it maps installed modules to their packages, which MLflow needs once per process before
  it logs a model (`modules_to_packages`).

Either may be missing (a store made meanwhile by another process, a job that failed): the
launching process then does the work itself, as it would without a head start. The scratch
folder goes once the store is adopted or the run ends, and a run refused before it opens the
stores leaves nothing.

The CLI enters `head_start` before Keras or MLflow load, so this module imports the stores'
engines only inside its functions, after the writer process has started.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The launching process waits this long for a job it needs; the writer normally finishes
# both while Keras imports, so a longer wait means something is wrong there.
WAIT_S = 10.0

# Jobs given to the writer by this process's head start, by what they prepare.
_STORES: dict[Path, Future[Path]] = {}
_PACKAGES: list[Future[dict[str, list[str]]]] = []


@contextmanager
def head_start(tracking_uri: str) -> Iterator[None]:
    """Start the writer process now and have it prepare the store and MLflow's package map.

    Args:
        tracking_uri: The run's MLflow tracking store; only a missing SQLite store is made.
    """
    from search.stores._writer import start

    pool = start()
    from search.stores._storage import sqlite_path

    path = sqlite_path(tracking_uri)
    try:
        if path is not None and not path.exists():
            where = tempfile.gettempdir()
            _STORES[path.resolve()] = pool.submit(_build_store, os.getcwd(), where)
        _PACKAGES.append(pool.submit(_modules_to_packages))
        yield
    finally:
        _forget()


def adopt(tracking_uri: str) -> bool:
    """Move the store the writer made into place if none is there yet; whether it was.

    Called before the store is opened. Another process may create the same store meanwhile:
    the swap happens under the lock `open_once` takes, and a store already there is kept.
    """
    from search.stores._storage import sqlite_path

    path = sqlite_path(tracking_uri)
    if path is None or path.exists():
        return False
    built = _result(_STORES.pop(path.resolve(), None))
    if built is None:
        return False
    try:
        return _move_into_place(built, path)
    finally:
        _discard(built)


def _move_into_place(built: Path, path: Path) -> bool:
    from search.stores._first_open import store_lock

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:  # connect's own attempt names the folder in its error
        return False
    with store_lock(path):
        if path.exists():
            return False
        part = path.with_name(f"{path.name}.part-{os.getpid()}")
        shutil.copyfile(built, part)
        os.replace(part, path)  # whole or not at all, for processes that look meanwhile
    return True


def modules_to_packages() -> dict[str, list[str]] | None:
    """MLflow's map from module to packages, made by the writer; None if it has none."""
    return _result(_PACKAGES[-1]) if _PACKAGES else None


def _result(job: Future[Any] | None) -> Any:
    if job is None:
        return None
    try:
        return job.result(timeout=WAIT_S)
    except Exception:  # a failed or slow job: the caller does the work itself
        return None


def _forget() -> None:
    for job in _STORES.values():  # not adopted: its scratch folder goes once it is made
        built = _result(job)
        if built is not None:
            _discard(built)
    _STORES.clear()
    _PACKAGES.clear()


def _discard(built: Path) -> None:
    shutil.rmtree(built.parent, ignore_errors=True)


# In the writer process.


def _build_store(cwd: str, temporary: str) -> Path:
    from mlflow import MlflowClient

    # In the run's folder, as the launching process would be: MLflow resolves the Default
    # experiment's artifact folder (./mlruns/0) against it.
    os.chdir(cwd)
    path = Path(tempfile.mkdtemp(prefix="tune-store-", dir=temporary)) / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments(max_results=1)
    return path


def _modules_to_packages() -> dict[str, list[str]]:
    from mlflow.utils import requirements_utils

    requirements_utils._init_modules_to_packages_map()
    return dict(requirements_utils._MODULES_TO_PACKAGES or {})
