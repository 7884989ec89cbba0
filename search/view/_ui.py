"""`tune ui`: the MLflow server on tune's store, with links straight to each study's runs.

MLflow 3.17's UI opens on its GenAI pages; `?workflowType=machine_learning` opens the
model-training view, where a study's trials fold under its parent run.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from search.stores._names import EXPERIMENT_KIND
from search.stores._storage import artifact_root, mask_url, sqlite_path
from search.stores._tracking import tracking_client
from spaces import ConfigError

if TYPE_CHECKING:
    from mlflow import MlflowClient

WORKFLOW_QUERY = "workflowType=machine_learning"
# MLflow's job runner starts eight worker processes for GenAI features that tune does not
# use; on two cores they triple the server's start-up. The user's environment still wins.
SERVER_ENV = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class UiPlan:
    """The server command, the base URL and one direct link per study."""

    command: list[str]
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
    backend = _backend_uri(tracking_uri)
    client = tracking_client(backend)
    if client is None:
        raise ConfigError(
            f"no tracking store at '{sqlite_path(backend)}' yet; run `tune run` first, "
            "or pass --tracking-uri."
        )
    experiments = _study_experiments(client, study, tracking_uri)
    _tag_kind(client, list(experiments.values()))
    check_port(host, port)
    url = f"http://{_url_host(host)}:{port}"
    links = {
        name: f"{url}/#/experiments/{eid}?{WORKFLOW_QUERY}" for name, eid in experiments.items()
    }
    warnings = []
    if not is_loopback(host):
        warnings.append(
            f"--host {host} makes the UI reachable from other machines, without any login; "
            "anyone who reaches it can read and delete runs."
        )
    if not links:
        warnings.append("no study has runs in this store yet; `tune run` adds one.")
    return UiPlan(_command(backend, host, port), url, links, tuple(warnings))


def serve(plan: UiPlan, open_browser: bool = False) -> int:
    """Run the server until it stops or the user interrupts; returns its exit code.

    The server gets its own process group, so stopping `tune ui` (Ctrl-C or SIGTERM) also
    stops the uvicorn workers that `mlflow server` starts.
    """
    env = {**SERVER_ENV, **os.environ}
    process = subprocess.Popen(plan.command, start_new_session=True, env=env)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        if open_browser and wait_until_healthy(plan.url, process):
            webbrowser.open(plan.open_url)
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


def _backend_uri(tracking_uri: str) -> str:
    if tracking_uri.startswith(("http://", "https://")):
        raise ConfigError(
            f"--tracking-uri {mask_url(tracking_uri)} is a server already; open it in a browser."
        )
    path = sqlite_path(tracking_uri)
    # The server may resolve a relative path from elsewhere; an absolute one cannot drift.
    return f"sqlite:///{path.resolve()}" if path is not None else tracking_uri


def _study_experiments(
    client: MlflowClient, study: str | None, tracking_uri: str
) -> dict[str, str]:
    experiments = {e.experiment_id: e.name for e in client.search_experiments()}
    parents = (
        client.search_runs(
            list(experiments), filter_string="tags.`tune.role` = 'study'", max_results=50000
        )
        if experiments
        else []
    )
    studies = {experiments[r.info.experiment_id]: r.info.experiment_id for r in parents}
    if study is None:
        return dict(sorted(studies.items()))
    if study not in studies:
        listed = ", ".join(sorted(studies)) or "none yet"
        raise ConfigError(
            f"unknown study '{study}'. Studies in {mask_url(tracking_uri)}: {listed}."
        )
    return {study: studies[study]}


def _tag_kind(client: MlflowClient, experiment_ids: list[str]) -> None:
    # Studies logged before the tag existed would open in the GenAI view; tag them now.
    ((key, value),) = EXPERIMENT_KIND.items()
    for experiment_id in experiment_ids:
        if client.get_experiment(experiment_id).tags.get(key) != value:
            client.set_experiment_tag(experiment_id, key, value)


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


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):  # every interface: this machine's browser uses loopback
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


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
