"""`tune dashboard`: optuna-dashboard on the Optuna store, with a link to one study's page.

optuna-dashboard is an optional extra (`pip install -e '.[dashboard]'`); it reads the study
store as it is, so nothing is converted or copied.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass

from search.stores._lookup import load_study, open_existing
from search.view._ui import absolute_sqlite, browser_host, check_port, host_warnings, run_server
from spaces import ConfigError

MISSING = "optuna-dashboard is not installed; run pip install -e '.[dashboard]'"


@dataclass(frozen=True)
class DashboardPlan:
    """The server command, its base URL and the study's page."""

    command: list[str]
    url: str
    link: str
    warnings: tuple[str, ...] = ()


def plan_dashboard(storage_url: str, study: str, host: str, port: int) -> DashboardPlan:
    """Check the extra, the store, the study and the port, and say how the server will start.

    Raises:
        ConfigError: optuna-dashboard is missing, the store or the study does not exist, or
            the port is taken.
    """
    if importlib.util.find_spec("optuna_dashboard") is None:
        raise ConfigError(MISSING)
    storage = open_existing(storage_url)
    load_study(storage, study, storage_url)
    study_id = storage.get_study_id_from_name(study)
    check_port(host, port)
    url = f"http://{browser_host(host)}:{port}"
    return DashboardPlan(
        _command(storage_url, host, port),
        url,
        f"{url}/dashboard/studies/{study_id}",
        host_warnings(host, "read, rename and delete studies"),
    )


def serve_dashboard(plan: DashboardPlan) -> int:
    """Run optuna-dashboard until it stops or the user interrupts; returns its exit code."""
    return run_server(plan.command)


def _command(storage_url: str, host: str, port: int) -> list[str]:
    # The package has no __main__; `_cli` is what its `optuna-dashboard` script runs, and
    # `-m` keeps this interpreter, whose environment has both Optuna and the dashboard.
    return [
        sys.executable, "-m", "optuna_dashboard._cli", absolute_sqlite(storage_url),
        "--host", host,
        "--port", str(port),
    ]  # fmt: skip
