"""tune studies / trials / best on a real study, and the table, JSON and CSV formats."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from search.view._tables import FORMATTERS, render, render_one
from tests.conftest import Stores
from tests.search.built import built_study


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Iterator[Stores]:
    with built_study(tmp_path_factory, migrated_mlflow_db, "--data", "iris") as stores:
        yield stores


def _study(stores: Stores) -> optuna.Study:
    return optuna.load_study(study_name="iris", storage=stores.storage)


def _failed_study(tmp_path: Path) -> str:
    """A store whose only study has a failed trial and nothing complete."""
    storage = f"sqlite:///{tmp_path / 'failed.db'}"
    study = optuna.create_study(study_name="broken", storage=storage)
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    return storage


@pytest.mark.slow
def test_trials_table_shows_number_state_value_duration_and_params(tune, iris) -> None:
    out = tune("trials", "iris", *iris.flags()).out
    header, *rows = out.splitlines()
    for column in (
        "number",
        "state",
        "value",
        "duration_s",
        "n_params",
        "units_0",
        "learning_rate",
    ):
        assert column in header.split()
    assert len(rows) == 3
    assert all("COMPLETE" in row for row in rows)


@pytest.mark.slow
def test_trials_json_and_csv_hold_the_real_parameters(tune, iris) -> None:
    study = _study(iris)
    rows = json.loads(tune("trials", "iris", "--format", "json", *iris.flags()).out)
    assert [r["number"] for r in rows] == [t.number for t in study.trials]
    assert rows[0]["baseline"] is True
    assert rows[0]["params"] == study.trials[0].user_attrs["params"]
    assert rows[0]["run_id"] == study.trials[0].user_attrs["mlflow_run_id"]
    table = list(
        csv.DictReader(io.StringIO(tune("trials", "iris", "--format", "csv", *iris.flags()).out))
    )
    assert [float(r["value"]) for r in table] == pytest.approx([t.value for t in study.trials])
    assert table[0]["units_0"] == str(study.trials[0].user_attrs["params"]["units_0"])


@pytest.mark.slow
def test_studies_lists_the_study_with_its_experiment(tune, iris) -> None:
    rows = json.loads(tune("studies", "--format", "json", *iris.flags()).out)
    assert [r["study"] for r in rows] == ["iris"]
    experiment = MlflowClient(tracking_uri=iris.tracking_uri).get_experiment_by_name("iris")
    assert rows[0]["experiment_id"] == experiment.experiment_id
    assert rows[0]["trials"] == 3
    assert rows[0]["best_value"] == pytest.approx(_study(iris).best_value)


@pytest.mark.slow
def test_best_matches_the_study_and_the_parent_run(tune, iris) -> None:
    study = _study(iris)
    record = json.loads(tune("best", "iris", "--format", "json", *iris.flags()).out)
    assert record["trial"] == study.best_trial.number
    assert record["value"] == pytest.approx(study.best_value, abs=1e-12)
    assert record["model_uri"].startswith("models:/m-")
    client = MlflowClient(tracking_uri=iris.tracking_uri)
    parent = client.search_runs(
        [client.get_experiment_by_name("iris").experiment_id], "tags.`tune.role` = 'study'"
    )[0]
    assert record["test_value"] == pytest.approx(parent.data.metrics["test_accuracy"])
    table = tune("best", "iris", *iris.flags()).out
    assert f"trial           {study.best_trial.number}" in table


@pytest.mark.slow
def test_unknown_study_is_one_line_listing_the_studies(tune, iris) -> None:
    for command in ("trials", "best"):
        err = tune(command, "nope", *iris.flags(), code=2).err
        assert err.strip() == f"error: unknown study 'nope'. Studies in {iris.storage}: iris."


def test_study_without_a_complete_trial_is_an_error(tune, tmp_path: Path) -> None:
    storage = _failed_study(tmp_path)
    err = tune("best", "broken", "--storage", storage, code=1).err
    assert err.startswith("error: study 'broken' has no complete trial yet (1 fail)")
    assert len(err.strip().splitlines()) == 1


def test_a_missing_store_is_refused_and_not_created(tune, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'none' / 'optuna.db'}"
    err = tune("studies", "--storage", storage, code=2).err
    assert "no study store at" in err and "run `tune run` first" in err
    assert not (tmp_path / "none").exists()


def test_cli_formats_are_the_registry() -> None:
    from search._options import FORMATS

    assert set(FORMATS) == set(FORMATTERS)


ROWS = [
    {"number": 0, "value": 0.123456789, "params": {"units_0": 8, "lr": 0.001}, "run_id": "r0"},
    {"number": 1, "value": None, "params": {"units_0": 16, "units_1": 4}, "run_id": "r1"},
]


def test_table_flattens_parameters_and_hides_long_columns() -> None:
    lines = render(ROWS, "table").splitlines()
    assert lines[0].split() == ["number", "value", "units_0", "lr", "units_1"]
    assert lines[1].split() == ["0", "0.12346", "8", "0.001"]
    assert "r0" not in render(ROWS, "table")


def test_csv_keeps_every_column_and_json_nests_parameters() -> None:
    rows = list(csv.DictReader(io.StringIO(render(ROWS, "csv"))))
    assert rows[1] == {
        "number": "1",
        "value": "",
        "run_id": "r1",
        "units_0": "16",
        "lr": "",
        "units_1": "4",
    }
    assert json.loads(render(ROWS, "json")) == ROWS
    assert json.loads(render_one(ROWS[0], "json")) == ROWS[0]


def test_an_unknown_format_lists_the_valid_ones() -> None:
    from spaces import ConfigError

    with pytest.raises(ConfigError, match="Use one of: csv, json, table"):
        render(ROWS, "xml")
