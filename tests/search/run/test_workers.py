"""`tune run --workers N`: processes sharing one study, quotas, recycling."""

from __future__ import annotations

import pytest

from search.stores._names import WORKER_ATTR
from tests.search import stores_view

pytestmark = [pytest.mark.slow, pytest.mark.processes]


def test_four_workers_share_the_default_local_store(tune, stores, tiny_config) -> None:
    # No --storage/--tracking-uri: the default SQLite stores under ./mlruns.
    result = tune(
        "run",
        "--config",
        str(tiny_config),
        "--workers",
        "4",
        "--trials",
        "100",
        "--quiet",
        "--no-report",
    )
    assert "locked" not in result.err

    storage, tracking = "sqlite:///mlruns/optuna.db", "sqlite:///mlruns/mlflow.db"
    trials = stores_view.trials(storage, "iris")
    assert stores_view.states(trials) == {"COMPLETE": 100}
    assert len({t.user_attrs[WORKER_ATTR] for t in trials}) == 4
    assert len(stores_view.runs(tracking, "iris", "trial")) == 100
    assert len(stores_view.runs(tracking, "iris", "study")) == 1
    stores_view.assert_consistent(storage, tracking, "iris")


def test_workers_are_recycled_after_their_quota(tune, stores, tiny_config) -> None:
    tune(
        "run", "--config", str(tiny_config), "--workers", "2", "--trials", "6",
        "--recycle-after", "2", "--quiet", "--no-report", *stores.flags(),
    )  # fmt: skip
    trials = stores_view.trials(stores.storage, "iris")
    assert len(trials) == 6
    per_worker: dict[str, int] = {}
    for trial in trials:
        per_worker[trial.user_attrs[WORKER_ATTR]] = (
            per_worker.get(trial.user_attrs[WORKER_ATTR], 0) + 1
        )
    # No worker outlives its quota; when two finish together, the last trials are shared
    # between two fresh workers (1 + 1) rather than given to one.
    assert max(per_worker.values()) == 2
    assert len(per_worker) >= 3


def test_a_worker_above_the_memory_limit_is_replaced(tune, stores, tiny_config) -> None:
    # Any real process is above 1 MB, so every worker stops after one trial.
    tune(
        "run", "--config", str(tiny_config), "--workers", "2", "--trials", "3",
        "--max-rss-mb", "1", "--quiet", "--no-report", *stores.flags(),
    )  # fmt: skip
    trials = stores_view.trials(stores.storage, "iris")
    assert stores_view.states(trials) == {"COMPLETE": 3}
    assert len({t.user_attrs[WORKER_ATTR] for t in trials}) == 3
    stores_view.assert_consistent(stores.storage, stores.tracking_uri, "iris")
