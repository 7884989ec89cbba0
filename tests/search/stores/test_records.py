"""A trial run's records: the data input that many runs may log at the same moment."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput
from mlflow.exceptions import MlflowException

from search.stores._records import log_inputs
from tests.search.stores.together import at_once

RUNS = 4
ROUNDS = 5  # a lost race shows within a round or two on PostgreSQL; five make it certain


def _data() -> DatasetInput:
    return DatasetInput(Dataset(name="iris", digest="0123abcd", source_type="code", source="{}"))


def _at_once(client: MlflowClient, run_ids: list[str]) -> list[str]:
    """`log_inputs` of the same new dataset from one thread per run, released together."""
    errors: list[str] = []

    def log(run_id: str) -> None:
        try:
            log_inputs(client, run_id, [_data()])
        except Exception as exc:  # collected, so that the test names every failure
            errors.append(str(exc)[:300])

    at_once(log, run_ids)
    return errors


def _logged(client: MlflowClient, run_id: str) -> list[tuple[str, str]]:
    inputs = client.get_run(run_id).inputs
    found = inputs.dataset_inputs if inputs is not None else []
    return [(i.dataset.name, i.dataset.digest) for i in found]


@pytest.mark.postgres
def test_runs_logging_the_same_new_dataset_at_once_all_link_to_one_row(
    postgres_databases: tuple[str, str],
) -> None:
    client = MlflowClient(tracking_uri=postgres_databases[1])
    for round_ in range(ROUNDS):
        experiment_id = client.create_experiment(f"study-{round_}")
        run_ids = [client.create_run(experiment_id).info.run_id for _ in range(RUNS)]

        assert _at_once(client, run_ids) == []
        for run_id in run_ids:
            assert _logged(client, run_id) == [("iris", "0123abcd")]


def test_an_error_that_is_not_a_lost_race_is_raised_at_once(tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = client.create_run(client.create_experiment("study")).info.run_id
    client.set_terminated(run_id)
    client.delete_run(run_id)

    with pytest.raises(MlflowException, match="active"):
        log_inputs(client, run_id, [_data()])


def test_no_inputs_log_nothing(tmp_path: Path) -> None:
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = client.create_run(client.create_experiment("study")).info.run_id

    log_inputs(client, run_id, [])

    assert _logged(client, run_id) == []
