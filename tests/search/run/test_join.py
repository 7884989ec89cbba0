"""Joining a study from another machine: `--study NAME` and the stores are enough."""

from __future__ import annotations

import shutil
from pathlib import Path

import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient

from tests.search.built import flowers_csv

pytestmark = pytest.mark.slow

SPACE = """
[space]
n_layers = [1, 1]
units = [8, 16]
epochs = [1, 1]
batch_sizes = [128]
"""
QUIET = ("--quiet", "--no-report")


@pytest.fixture
def made(tune, stores, tmp_path: Path) -> tuple[Path, Path]:
    """A study 'shared' made from a CSV with a random sampler; returns (data, space file)."""
    data = flowers_csv(tmp_path)
    space = tmp_path / "space.toml"
    space.write_text(SPACE)
    tune("run", "--data", str(data), "--target", "species", "--study", "shared",
         "--sampler", "random", "--trials", "2", "--config", str(space), *QUIET,
         *stores.flags())  # fmt: skip
    return data, space


def _parents(stores) -> list:
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name("shared")
    runs = client.search_runs([experiment.experiment_id], "tags.`tune.role` = 'study'")
    return sorted(runs, key=lambda r: r.info.start_time)


def test_the_study_name_and_the_stores_alone_join_it(tune, stores, made) -> None:
    _, space = made

    out = tune("run", "--study", "shared", "--trials", "1", "--config", str(space), *QUIET,
               *stores.flags()).out  # fmt: skip

    assert "Study 'shared': 3 trials" in out
    first, second = _parents(stores)
    assert second.data.tags["tune.sampler"] == "random"  # taken from the study
    assert second.data.tags["tune.target"] == "species"
    # The joining process samples with a seed of its own, recorded on its run.
    assert first.data.tags["tune.sampler_seed"] == "42"
    assert second.data.tags["tune.sampler_seed"] != "42"


def test_the_same_data_at_another_path_joins_and_other_data_does_not(
    tune, stores, made, tmp_path
) -> None:
    data, space = made
    moved = tmp_path / "elsewhere" / "copy.csv"
    moved.parent.mkdir()
    shutil.move(data, moved)
    join = ("run", "--study", "shared", "--trials", "1", "--config", str(space), *QUIET,
            *stores.flags())  # fmt: skip

    lost = tune(*join, code=2).err
    tune(*join, "--data", str(moved))
    frame = pd.read_csv(moved)
    frame.loc[len(frame) - 1, "petal width (cm)"] += 0.1
    frame.to_csv(moved, index=False)
    changed = tune(*join, "--data", str(moved), code=2).err

    assert lost.strip() == (
        f"error: study 'shared' was made from '{data.resolve()}', which cannot be read here; "
        "pass --data with the same data at its path on this machine."
    )
    assert changed.startswith("error: study 'shared' was made with data_digest=")
    assert len(optuna.load_study(study_name="shared", storage=stores.storage).trials) == 3


def test_a_conflicting_setting_is_refused_naming_both_values(tune, stores, made) -> None:
    _, space = made

    err = tune("run", "--study", "shared", "--sampler", "tpe", "--config", str(space), *QUIET,
               *stores.flags(), code=2).err  # fmt: skip

    assert err.strip() == (
        "error: study 'shared' was made with sampler='random', not 'tpe'; "
        "pass another --study name or the same settings."
    )


def test_an_unknown_study_without_data_says_to_give_data(tune, stores) -> None:
    err = tune("run", "--study", "nope", *QUIET, *stores.flags(), code=2).err

    assert err.strip() == (
        f"error: study 'nope' does not exist in {stores.storage}; give --data to create it."
    )
    assert not Path(stores.storage.removeprefix("sqlite:///")).exists()


def test_a_join_searches_the_study_s_ranges_and_other_ranges_are_refused(
    tune, stores, made, tmp_path
) -> None:
    _, space = made
    wider = tmp_path / "wider.toml"
    wider.write_text(SPACE.replace("units = [8, 16]", "units = [8, 32]"))
    join = ("run", "--study", "shared", "--trials", "1", *QUIET, *stores.flags())

    tune(*join)  # no --config: the study's ranges, not the defaults
    tune(*join, "--max-epochs", "4")  # caps epochs = [1, 1] to itself: the same space
    other = tune(*join, "--config", str(wider), code=2).err
    tune(*join, "--config", str(space), "--max-epochs", "1")

    trials = optuna.load_study(study_name="shared", storage=stores.storage).trials
    assert len(trials) == 5
    assert {t.params["epochs"] for t in trials if "epochs" in t.params} == {1}
    assert other.strip() == (
        "error: study 'shared' was made with the space range units=[8, 16], not [8, 32]; "
        "pass another --study name, or the same --config and --max-epochs."
    )
