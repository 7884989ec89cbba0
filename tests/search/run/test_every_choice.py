"""Every sampler, pruner and metric, and `--timeout`, through `tune run` on tiny data."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient
from optuna.trial import TrialState

from objectives import METRICS
from search.run._pruners import PRUNERS
from search.run._samplers import SAMPLERS

pytestmark = pytest.mark.slow

QUIET = ("--quiet", "--no-report")
EPOCHS = 4
# iris, one small layer, EPOCHS epochs: a trial takes well under a second.
SPACE = f"""
[space]
n_layers = [1, 1]
units = [8, 16]
epochs = [{EPOCHS}, {EPOCHS}]
batch_sizes = [128]
"""
# One task per metric, each metric once.
METRIC_DATA = {
    "accuracy": "iris",
    "auc": "breast_cancer",
    "f1": "iris",
    "rmse": "diabetes",
    "mae": "diabetes",
    "mape": "diabetes",
}


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(SPACE, encoding="utf-8")
    return path


def _runs(stores, study: str) -> dict[str, object]:
    """The study's MLflow runs by name."""
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name(study)
    return {r.info.run_name: r for r in client.search_runs([experiment.experiment_id])}


def test_the_lists_cover_the_registries() -> None:
    assert sorted(METRIC_DATA) == sorted(METRICS)


@pytest.mark.parametrize("sampler", sorted(SAMPLERS))
def test_every_sampler(tune, stores, tmp_path: Path, sampler: str) -> None:
    tune("run", "--data", "iris", "--config", str(_config(tmp_path)), "--trials", "4",
         "--max-epochs", "1", "--pruner", "none", "--sampler", sampler, *QUIET,
         *stores.flags())  # fmt: skip

    study = optuna.load_study(study_name="iris", storage=stores.storage)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4
    # Beyond the textbook trial, the sampler chose: not all configurations are the same.
    assert len({tuple(sorted(t.params.items())) for t in study.trials[1:]}) > 1
    assert _runs(stores, "iris")["iris"].data.tags["tune.sampler"] == sampler


@pytest.mark.parametrize("pruner", sorted(PRUNERS))
def test_every_pruner(tune, stores, tmp_path: Path, pruner: str) -> None:
    tune("run", "--data", "iris", "--config", str(_config(tmp_path)), "--trials", "8",
         "--pruner", pruner, *QUIET, *stores.flags())  # fmt: skip

    study = optuna.load_study(study_name="iris", storage=stores.storage)
    runs = _runs(stores, "iris")
    assert runs["iris"].data.tags["tune.pruner"] == pruner
    for trial in study.trials:
        # Every epoch a trial ran was reported to the store, in order.
        steps = sorted(trial.intermediate_values)
        expected = EPOCHS if trial.state == TrialState.COMPLETE else len(steps)
        assert steps == list(range(expected)) and expected >= 1
        run = runs[f"trial-{trial.number:04d}"]
        assert run.data.tags["tune.state"] == trial.state.name
    states = {t.state for t in study.trials}
    assert states <= {TrialState.COMPLETE, TrialState.PRUNED}
    if pruner in ("halving", "hyperband"):  # their rung records went to the store
        assert any("completed_rung_0" in t.system_attrs for t in study.trials)
    if pruner == "none":
        assert states == {TrialState.COMPLETE}


@pytest.mark.parametrize("metric", sorted(METRIC_DATA))
def test_every_metric(tune, stores, tmp_path: Path, metric: str) -> None:
    data = METRIC_DATA[metric]
    tune("run", "--data", data, "--config", str(_config(tmp_path)), "--trials", "2",
         "--max-epochs", "2", "--pruner", "none", "--metric", metric, *QUIET,
         *stores.flags())  # fmt: skip

    study = optuna.load_study(study_name=data, storage=stores.storage)
    assert study.direction.name.lower() == METRICS[metric].direction
    runs = _runs(stores, data)
    assert runs[data].data.tags["tune.metric"] == metric
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    history = client.get_metric_history(runs["trial-0000"].info.run_id, f"val_{metric}")
    assert [m.step for m in history] == [0, 1]
    assert study.trials[0].value == pytest.approx(history[-1].value, rel=1e-5)


def test_timeout_stops_the_study(tune, stores, tmp_path: Path) -> None:
    out = tune("run", "--data", "iris", "--config", str(_config(tmp_path)), "--trials", "10000",
               "--timeout", "4", "--pruner", "none", "--no-report",
               *stores.flags()).out  # fmt: skip

    study = optuna.load_study(study_name="iris", storage=stores.storage)
    assert 1 <= len(study.trials) < 10000
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert _runs(stores, "iris")["iris"].info.status == "FINISHED"
    assert "Stopped at the --timeout of 4 s; run the same command to go on." in out
