"""`tune ui`: the MLflow server on tune's store, with links straight to each study's trials.

MLflow 3.17's UI opens on its GenAI pages; `?workflowType=machine_learning` opens the
model-training view. Its URL can filter and sort the runs table but not choose its columns,
so each study's experiment gets a saved view (the UI's own "Views" menu, an experiment tag)
that shows the trial runs, best first, with the objective as a column; the link opens it.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from search.stores._names import EXPERIMENT_KIND
from search.stores._storage import artifact_root, mask_url, sqlite_path
from search.stores._tracking import is_server, tracking_client
from spaces import ConfigError

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run

WORKFLOW_QUERY = "workflowType=machine_learning"
# The saved view's id and name; the UI keeps saved views in experiment tags under this prefix.
VIEW_KEY = "tune-trials"
VIEW_TAG = f"mlflow.sharedViewState.{VIEW_KEY}"
VIEW_NAME = "tune: trials, best first"
TRIAL_FILTER = "tags.`tune.role` = 'trial'"
VALUE_COLUMN = "metrics.`value`"  # each trial run's objective value
# MLflow's job runner starts eight worker processes for GenAI features that tune does not
# use; on two cores they triple the server's start-up. The user's environment still wins.
SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class UiPlan:
    """The server command (None: the tracking URI is a server already), the base URL and one
    direct link per study."""

    command: list[str] | None
    url: str
    links: dict[str, str]
    warnings: tuple[str, ...] = ()

    @property
    def open_url(self) -> str:
        """What --open shows: the only study's runs, or the experiments list."""
        return next(iter(self.links.values())) if len(self.links) == 1 else self.url


def plan_ui(tracking_uri: str, host: str, port: int, study: str | None = None) -> UiPlan:
    """Check the store, the studies and the port, and say how the server will be started.

    Raises:
        ConfigError: The store does not exist yet, the study is unknown, or the port is taken.
    """
    if is_server(tracking_uri):
        return _plan_remote(tracking_uri, study)
    backend = absolute_sqlite(tracking_uri)
    client = tracking_client(backend)
    if client is None:
        raise ConfigError(
            f"no tracking store at '{sqlite_path(backend)}' yet; run `tune run` first, "
            "or pass --tracking-uri."
        )
    parents = _study_parents(client, study, tracking_uri)
    for parent in parents.values():
        _tag_experiment(client, parent)
    check_port(host, port)
    url = f"http://{browser_host(host)}:{port}"
    links = {name: trials_link(url, parent.info.experiment_id) for name, parent in parents.items()}
    warnings = list(host_warnings(host, "read and delete runs"))
    if not links:
        warnings.append("no study has runs in this store yet; `tune run` adds one.")
    return UiPlan(_command(backend, host, port), url, links, tuple(warnings))


def _plan_remote(tracking_uri: str, study: str | None) -> UiPlan:
    """Links on a tracking server that runs already: nothing to start."""
    client = tracking_client(tracking_uri)
    assert client is not None  # only a missing SQLite file gives None
    parents = _study_parents(client, study, tracking_uri)
    for parent in parents.values():
        _tag_experiment(client, parent)
    url = public_url(tracking_uri)
    links = {name: trials_link(url, parent.info.experiment_id) for name, parent in parents.items()}
    warnings = () if links else ("no study has runs on this server yet; `tune run` adds one.",)
    return UiPlan(None, url, links, warnings)


def public_url(tracking_uri: str) -> str:
    """A server's address for a browser: no credentials (the browser asks for them)."""
    parts = urlsplit(tracking_uri.rstrip("/"))
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=netloc))


def trials_link(url: str, experiment_id: str) -> str:
    """The runs page of a study's experiment, opened on tune's saved view of its trials."""
    query = f"{WORKFLOW_QUERY}&compareRunsMode=TABLE&viewStateShareKey={VIEW_KEY}"
    return f"{url}/#/experiments/{experiment_id}/runs?{query}"


def trials_view(direction: str) -> dict[str, object]:
    """The runs table's state in the saved view: the trial runs, best first, value shown.

    Filtering out the parent run also unfolds its children: they become the table's rows.
    """
    return {
        "searchFilter": TRIAL_FILTER,
        "orderByKey": VALUE_COLUMN,
        "orderByAsc": direction == "minimize",
        "selectedColumns": [VALUE_COLUMN],
    }


def serve(plan: UiPlan, open_browser: bool = False) -> int:
    """Run the MLflow server until it stops or the user interrupts; returns its exit code."""

    def open_when_healthy(process: subprocess.Popen[bytes]) -> None:
        if wait_until_healthy(plan.url, process):
            webbrowser.open(plan.open_url)

    if plan.command is None:  # a server that runs already
        if open_browser:
            webbrowser.open(plan.open_url)
        return 0
    env = {**SERVER_ENV, **os.environ}
    return run_server(plan.command, env, open_when_healthy if open_browser else None)


def run_server(
    command: list[str],
    env: dict[str, str] | None = None,
    started: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> int:
    """Run a server command until it exits or the user interrupts; returns its exit code.

    The server gets its own process group, so stopping tune (Ctrl-C or SIGTERM) also stops
    the workers it starts (uvicorn's for MLflow, gunicorn's for optuna-dashboard).
    `started` runs once the process is up, e.g. to open a browser.
    """
    process = subprocess.Popen(command, start_new_session=True, env=env)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if started is not None:
            started(process)
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop(process)
        signal.signal(signal.SIGTERM, previous)


def check_port(host: str, port: int) -> None:
    """Refuse a port that another program listens on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR ignores sockets in TIME_WAIT, which the server could bind over too.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is already in use; stop what runs there, "
                    f"or pass --port with a free port (e.g. --port {port + 1})."
                ) from exc
            raise ConfigError(
                f"cannot listen on {host}:{port}: {exc.strerror}; check --host."
            ) from exc


def host_warnings(host: str, exposes: str) -> tuple[str, ...]:
    """A warning where `host` lets other machines reach a server that has no login."""
    if is_loopback(host):
        return ()
    return (
        f"--host {host} makes the server reachable from other machines, without any login; "
        f"anyone who reaches it can {exposes}.",
    )


def browser_host(host: str) -> str:
    """The host a browser on this machine uses to reach a server listening on `host`."""
    if host in ("0.0.0.0", "::"):  # every interface: this machine's browser uses loopback
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def absolute_sqlite(url: str) -> str:
    """A SQLite URL with an absolute path; other URLs as they are.

    A server started from elsewhere may resolve a relative path elsewhere; an absolute one
    cannot drift.
    """
    path = sqlite_path(url)
    return f"sqlite:///{path.resolve()}" if path is not None else url


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach `host`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def wait_until_healthy(url: str, process: subprocess.Popen[bytes] | None = None) -> bool:
    """Poll `/health` until the server answers; False if it exits or takes too long."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def _study_parents(client: MlflowClient, study: str | None, tracking_uri: str) -> dict[str, Run]:
    """Each study's latest parent run, by study (experiment) name."""
    experiments = {e.experiment_id: e.name for e in client.search_experiments()}
    parents = (
        client.search_runs(
            list(experiments),
            filter_string="tags.`tune.role` = 'study'",
            max_results=50000,
            order_by=["attributes.start_time ASC"],  # the latest run of a study comes last
        )
        if experiments
        else []
    )
    studies = {experiments[r.info.experiment_id]: r for r in parents}
    if study is None:
        return dict(sorted(studies.items()))
    if study not in studies:
        listed = ", ".join(sorted(studies)) or "none yet"
        raise ConfigError(
            f"unknown study '{study}'. Studies in {mask_url(tracking_uri)}: {listed}."
        )
    return {study: studies[study]}


def _tag_experiment(client: MlflowClient, parent: Run) -> None:
    # Studies logged before these tags existed would open in the GenAI view, or without the
    # saved view the link names; a user may also have deleted the view. Tag them now.
    experiment_id = parent.info.experiment_id
    tags = client.get_experiment(experiment_id).tags
    ((key, value),) = EXPERIMENT_KIND.items()
    if tags.get(key) != value:
        client.set_experiment_tag(experiment_id, key, value)
    state = trials_view(parent.data.tags.get("tune.direction", "maximize"))
    if _saved_state(tags.get(VIEW_TAG)) != state:
        now_ms = int(time.time() * 1000)
        envelope = {
            "name": VIEW_NAME,
            "createdAt": now_ms,
            "updatedAt": now_ms,
            "state": json.dumps(state),
        }
        client.set_experiment_tag(experiment_id, VIEW_TAG, json.dumps(envelope))


def _saved_state(envelope: str | None) -> object:
    """The runs-table state in a saved view's tag, or None where it is missing or unreadable."""
    try:
        return json.loads(json.loads(envelope or "")["state"])
    except (ValueError, KeyError, TypeError):
        return None


def _command(backend: str, host: str, port: int) -> list[str]:
    root = artifact_root(backend) or str(Path("mlruns", "artifacts").resolve().as_uri())
    return [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend,
        "--default-artifact-root", root,
        "--serve-artifacts",
        "--artifacts-destination", root,
        "--host", host,
        "--port", str(port),
        # One worker is plenty for one person's browser, and cheap on a laptop.
        "--workers", "1",
    ]  # fmt: skip


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait_s in ((signal.SIGTERM, STOP_TIMEOUT_S), (signal.SIGKILL, STOP_TIMEOUT_S)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
