"""Many machines: `tune run` processes join one study on a real PostgreSQL server."""

from __future__ import annotations

import subprocess
import sys

import optuna
import pytest
from mlflow import MlflowClient

from search.stores._storage import open_storage
from search.stores._tracking import connect
from tests.search import stores_view

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.processes]


def test_processes_on_several_machines_share_one_study(
    postgres_databases, tiny_config, tmp_path
) -> None:
    storage, tracking = postgres_databases
    # As in a deployment, the stores exist before the workers start (mlflow server migrates
    # its database on start); then every process joins the same study.
    optuna.storages.RDBStorage(storage)
    MlflowClient(tracking_uri=tracking).search_experiments()
    common = ["--config", str(tiny_config), "--study", "shared", "--quiet", "--no-report",
              "--storage", storage, "--tracking-uri", tracking]  # fmt: skip
    machines = [
        subprocess.Popen(
            [sys.executable, "-m", "search", "run", *common, *extra],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for extra in (["--trials", "4", "--workers", "2"], ["--trials", "3"])
    ]
    outputs = [machine.communicate(timeout=400)[0] for machine in machines]
    assert [m.returncode for m in machines] == [0, 0], "\n".join(outputs)

    trials = stores_view.trials(storage, "shared")
    assert stores_view.states(trials) == {"COMPLETE": 7}
    assert len(stores_view.runs(tracking, "shared", "trial")) == 7
    assert len(stores_view.runs(tracking, "shared", "study")) == 2
    stores_view.assert_consistent(storage, tracking, "shared")

    password = storage.split(":")[2].split("@")[0]
    assert f":{password}@" not in "".join(outputs)
    for parent in stores_view.runs(tracking, "shared", "study"):
        logged = {**parent.data.tags, **parent.data.params}
        assert not any(f":{password}@" in str(value) for value in logged.values())
        assert parent.data.tags["tune.storage"].count("***") == 1


def test_plain_postgresql_urls_open_both_stores(postgres_databases) -> None:
    # The README's URLs name no driver; SQLAlchemy 2.1 then picks psycopg 3.
    storage, tracking = (url.replace("+psycopg2", "") for url in postgres_databases)
    assert storage.startswith("postgresql://") and tracking.startswith("postgresql://")
    open_storage(storage)
    connect(tracking).search_experiments()
