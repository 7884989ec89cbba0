"""Where studies and runs live: default local paths, Optuna storage, and credential masking."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
import urllib.request
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import optuna
import sqlalchemy
import sqlalchemy.exc

from search.stores._first_open import open_once
from spaces import ConfigError, first_line

StaleCallback = Callable[[optuna.Study, optuna.trial.FrozenTrial], None]

ARTIFACTS_DIR = "artifacts"

# A worker that misses heartbeats for GRACE_PERIOD seconds is taken for dead; its trial
# is failed and retried once by whichever worker notices first.
HEARTBEAT_INTERVAL = 10
GRACE_PERIOD = 30
# A store that does not answer is reported within this many seconds.
CONNECT_TIMEOUT_S = 5
# SQLite serialises writers; a generous busy timeout lets several workers wait their turn.
SQLITE_TIMEOUT_S = 120


def sqlite_path(url: str) -> Path | None:
    """The database file of a `sqlite:///` URL, or None for other URLs."""
    if not url.startswith("sqlite:///"):
        return None
    raw = url[len("sqlite:///") :].split("?", 1)[0]
    return None if raw in ("", ":memory:") else Path(raw)


def ensure_parent(url: str) -> None:
    """Create the folder of a SQLite database so the first run needs no set-up.

    The database is switched to write-ahead logging, which lets the workers of
    `--workers N` read while one of them writes; the mode is stored in the file.

    Raises:
        ConfigError: The folder cannot be created.
    """
    path = sqlite_path(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the folder {path.parent} for the store {url}: {exc.strerror}. "
            "Give a writable location."
        ) from exc
    relax_sqlite_sync()
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_TIMEOUT_S)) as db:
            db.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error:
        pass  # another process holds it right now; it will have set the mode already


def _relaxed_sync(dbapi_connection: object, _record: object) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")


def relax_sqlite_sync() -> None:
    """Have every SQLite connection of this process skip the fsync after each commit.

    In WAL mode, synchronous=NORMAL (SQLite's advice for WAL) keeps the database
    consistent and loses at most the last commits on a power cut, not on a crash of tune.
    A trial commits some forty times (parameters, attributes, each epoch's report), and
    each fsync costs about 0.3 ms here, more on slower disks and under several workers.
    """
    if not sqlalchemy.event.contains(sqlalchemy.engine.Engine, "connect", _relaxed_sync):
        sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", _relaxed_sync)


def _begin_immediate(connection: sqlalchemy.engine.Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_on_begin(engine: sqlalchemy.engine.Engine) -> None:
    """Have every transaction of an Optuna SQLite engine take the write lock first.

    Python's sqlite3 runs a SELECT outside any transaction, and SQLite has no SELECT ... FOR
    UPDATE, so two processes could both read a WAITING trial (the enqueued baseline, a
    retried trial) and both set it RUNNING: the trial ran twice, and the second tell failed
    with "Cannot tell a COMPLETE trial". BEGIN IMMEDIATE serialises that read with the write;
    SQLite serialises writers anyway. It is set only once the storage is open, because
    Optuna's own set-up holds one connection open while it opens a second.
    """
    if not sqlalchemy.event.contains(engine, "begin", _begin_immediate):
        sqlalchemy.event.listen(engine, "begin", _begin_immediate)


def artifact_root(tracking_uri: str) -> str | None:
    """Where runs keep their artifacts: beside a SQLite store, else the server's choice."""
    path = sqlite_path(tracking_uri)
    if path is not None:
        return (path.parent / ARTIFACTS_DIR).resolve().as_uri()
    if tracking_uri.startswith(("http://", "https://", "databricks")):
        return None
    return (Path("mlruns") / ARTIFACTS_DIR).resolve().as_uri()


class BeatingStorage(optuna.storages.RDBStorage):
    """Optuna's RDB storage, where a trial beats from the moment it starts running.

    Optuna records a trial's first heartbeat from a thread it starts after `ask`, which under
    load can run a good while after the objective has begun; a machine that died in between
    left a RUNNING trial without a heartbeat, which Optuna never takes for stale. Here the
    first beat is written as the trial is created or popped from the queue.
    """

    # Optuna's cache in front of the storage calls this private method, not create_new_trial.
    def _create_new_trial(
        self, study_id: int, template_trial: optuna.trial.FrozenTrial | None = None
    ) -> optuna.trial.FrozenTrial:
        trial = super()._create_new_trial(study_id, template_trial)
        if trial.state == optuna.trial.TrialState.RUNNING:
            self.record_heartbeat(trial._trial_id)
        return trial

    def set_trial_state_values(
        self,
        trial_id: int,
        state: optuna.trial.TrialState,
        values: Sequence[float] | None = None,
    ) -> bool:
        updated = super().set_trial_state_values(trial_id, state, values)
        if updated and state == optuna.trial.TrialState.RUNNING:
            self.record_heartbeat(trial_id)
        return updated


def open_storage(
    url: str,
    stale_callback: StaleCallback | None = None,
    heartbeat_interval: int = HEARTBEAT_INTERVAL,
    grace_period: int = GRACE_PERIOD,
) -> optuna.storages.RDBStorage:
    """An Optuna RDB storage with heartbeats, busy timeouts and one retry of stale trials.

    Args:
        url: An SQLAlchemy URL (sqlite:///..., postgresql://...).
        stale_callback: Called for each trial whose worker stopped beating; by default the
            trial is retried once.
        heartbeat_interval: Seconds between a running trial's heartbeats.
        grace_period: Seconds without a heartbeat after which a trial is taken for dead.

    Raises:
        ConfigError: The URL is malformed or the database cannot be reached.
    """
    ensure_parent(url)
    engine_kwargs = {"connect_args": connect_args(url)}
    beat: dict[str, object] = {
        "heartbeat_interval": heartbeat_interval,
        "grace_period": grace_period,
        "heartbeat_stale_trial_callback": stale_callback or retry_once(),
    }

    def opener() -> optuna.storages.RDBStorage:
        with warnings.catch_warnings():
            # Heartbeats are marked experimental; tune relies on them knowingly.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return BeatingStorage(url, engine_kwargs=engine_kwargs, **beat)  # type: ignore[arg-type]

    try:
        storage = open_once(sqlite_path(url), opener)
    except (sqlalchemy.exc.SQLAlchemyError, ValueError, ImportError) as exc:
        raise ConfigError(
            f"cannot open storage '{mask_url(url)}': {mask_text(first_line(exc), url)}. "
            "Check --storage."
        ) from exc
    if sqlite_path(url) is not None:
        lock_on_begin(storage.engine)
    return storage


def reach(url: str, flag: str) -> None:
    """Fail within CONNECT_TIMEOUT_S, with one line, where a store's server does not answer.

    MLflow itself retries an unreachable server for over a minute, and a database port that
    accepts connections but never replies would hang a driver without a timeout. Local
    SQLite files need no probe.

    Args:
        flag: The option that names the store, for the message (--storage, --tracking-uri).
    """
    what = "the tracking store" if flag == "--tracking-uri" else "the storage"
    try:
        if url.startswith(("http://", "https://")):
            health = f"{url.rstrip('/')}/health"
            with urllib.request.urlopen(health, timeout=CONNECT_TIMEOUT_S):
                return
        if "://" in url and not url.startswith(("sqlite:", "file:", "databricks")):
            _connect_within(url, CONNECT_TIMEOUT_S)
    except Exception as exc:  # drivers and urllib raise many types for the same failure
        raise ConfigError(
            f"cannot reach {what} at {mask_url(url)}: {mask_text(first_line(exc), url)}. "
            f"Check {flag} and that the server is up."
        ) from exc


def _connect_within(url: str, seconds: float) -> None:
    """Open and close one connection, or raise TimeoutError after `seconds`.

    The drivers' own connect_timeout did not hold against a port that accepts and never
    replies (seen: over two minutes), so the attempt runs in a daemon thread that is left
    behind if it hangs; the process exits with the error regardless.
    """
    failure: list[BaseException] = []

    def attempt() -> None:
        try:
            engine = sqlalchemy.create_engine(url, connect_args=connect_args(url))
            try:
                engine.connect().close()
            finally:
                engine.dispose()
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if failure:
        raise failure[0]


def connect_args(url: str) -> dict[str, object]:
    """Driver options: SQLite waits its turn; a database server that does not answer fails
    within CONNECT_TIMEOUT_S instead of hanging (a port that accepts and never replies)."""
    if sqlite_path(url) is not None:
        return {"timeout": SQLITE_TIMEOUT_S}
    if url.startswith("postgres"):
        return {"connect_timeout": CONNECT_TIMEOUT_S}
    return {}


def retry_once() -> optuna.storages.RetryHeartbeatStaleTrialCallback:
    """Optuna's callback that re-enqueues a stale trial's parameters, once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)


def mask_url(url: str) -> str:
    """Hide the password of a URL: postgresql://user:***@host/db."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}{port}"))


def mask_text(text: str, *urls: str | None) -> str:
    """Remove the URLs' passwords (and the URLs in clear) from a message."""
    for url in filter(None, urls):
        text = text.replace(url, mask_url(url))
        password = _password(url)
        if password:
            text = text.replace(password, "***")
    return re.sub(r"(://[^:/@\s]*):[^@\s]*@", r"\1:***@", text)


def _password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None
