"""Every run of a study logs the data it trained on, with a digest of the whole data."""

from __future__ import annotations

from pathlib import Path

import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient

from tests.search.built import flowers_csv

pytestmark = pytest.mark.slow

TINY = ("--trials", "2", "--max-epochs", "1", "--pruner", "none", "--quiet", "--no-report")


def _inputs(stores, study: str) -> dict[str, list[tuple[str, str, str]]]:
    client = MlflowClient(tracking_uri=stores.tracking_uri)
    experiment = client.get_experiment_by_name(study)
    runs = client.search_runs([experiment.experiment_id])
    return {
        run.info.run_name: [
            (d.dataset.name, d.dataset.digest, next(t.value for t in d.tags))
            for d in run.inputs.dataset_inputs
        ]
        for run in runs
    }


def test_parent_and_trial_runs_carry_the_data_and_its_digest(tune, stores, tmp_path) -> None:
    data = flowers_csv(tmp_path)
    tune("run", "--data", str(data), "--target", "species", "--study", "v1", *TINY,
         *stores.flags())  # fmt: skip
    frame = pd.read_csv(data)
    frame.loc[len(frame) - 1, "petal width (cm)"] += 0.1  # the very last row
    changed = tmp_path / "v2" / "flowers.csv"
    changed.parent.mkdir()
    frame.to_csv(changed, index=False)
    tune("run", "--data", str(changed), "--target", "species", "--study", "v2", *TINY,
         *stores.flags())  # fmt: skip

    first, second = _inputs(stores, "v1"), _inputs(stores, "v2")

    assert sorted(first) == ["trial-0000", "trial-0001", "v1"]
    digests = {digest for inputs in first.values() for _, digest, _ in inputs}
    assert len(digests) == 1 and len(next(iter(digests))) == 32
    assert all(inputs == [("flowers.csv", *digests, "training")] for inputs in first.values())
    assert second["v2"][0][1] not in digests
    stored = optuna.load_study(study_name="v1", storage=stores.storage).user_attrs
    assert stored["data_digest"] in digests


def test_a_study_refuses_to_go_on_with_changed_data(tune, stores, tmp_path: Path) -> None:
    data = flowers_csv(tmp_path)
    args = ("run", "--data", str(data), "--target", "species", *TINY, *stores.flags())
    tune(*args)
    frame = pd.read_csv(data)
    frame.loc[0, "site"] = "west"
    frame.to_csv(data, index=False)

    err = tune(*args, code=2).err

    assert err.startswith("error: study 'flowers-species' was made with data_digest=")
    assert len(optuna.load_study(study_name="flowers-species", storage=stores.storage).trials) == 2
