"""The writer process's head start: a new store made while Keras loads, and MLflow's package map."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from mlflow import MlflowClient

from search.stores._ahead import adopt, head_start, modules_to_packages
from search.stores._tracking import connect


@pytest.fixture
def scratch_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where head_start makes its scratch folder, watched by the test; tmp_path is the cwd."""
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.chdir(tmp_path)
    return root


def test_a_new_store_is_adopted_whole_and_opens_as_a_migrated_one(
    tmp_path: Path, scratch_root: Path
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    with head_start(uri):
        assert adopt(uri)
        assert (tmp_path / "mlruns" / "mlflow.db").is_file()
        assert not list((tmp_path / "mlruns").glob("*.part-*"))
        assert list(scratch_root.iterdir()) == []  # gone once adopted, not at the run's end
        client = connect(uri)
        experiment_id = client.create_experiment("after")
        client.create_run(experiment_id)
    default = client.get_experiment("0")
    # As if this process had created it: MLflow resolves ./mlruns against the run's folder.
    assert default.artifact_location == str(tmp_path / "mlruns" / "0")
    assert [e.name for e in client.search_experiments()] == ["after", "Default"]
    assert list(scratch_root.iterdir()) == []


def test_a_store_that_exists_is_kept(tmp_path: Path, scratch_root: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    MlflowClient(tracking_uri=uri).create_experiment("mine")
    with head_start(uri):
        assert not adopt(uri)
    assert "mine" in [e.name for e in MlflowClient(tracking_uri=uri).search_experiments()]
    assert list(scratch_root.iterdir()) == []


def test_a_store_made_meanwhile_by_another_process_wins(tmp_path: Path, scratch_root: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with head_start(uri):
        MlflowClient(tracking_uri=uri).create_experiment("theirs")
        assert not adopt(uri)
    assert "theirs" in [e.name for e in MlflowClient(tracking_uri=uri).search_experiments()]
    assert list(scratch_root.iterdir()) == []


def test_a_refused_run_leaves_no_store_and_no_scratch(tmp_path: Path, scratch_root: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    with pytest.raises(ValueError), head_start(uri):
        raise ValueError("refused before the stores open")
    assert not (tmp_path / "mlruns").exists()
    assert list(scratch_root.iterdir()) == []
    assert not adopt(uri)  # the job went with the run


def test_a_server_store_is_not_made_but_the_package_map_is(scratch_root: Path) -> None:
    uri = "http://127.0.0.1:9/"
    with head_start(uri):
        assert not adopt(uri)
        made = modules_to_packages()
    assert made is not None
    assert made["numpy"] == ["numpy"] and "mlflow" in made
    assert modules_to_packages() is None  # only during a head start
    assert list(scratch_root.iterdir()) == []  # nothing built for a server
