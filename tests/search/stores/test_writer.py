"""Trial records written now (InlineWriter) or by the writer process (BackgroundWriter)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from mlflow import MlflowClient

from search.stores._records import (
    TrialOutcome,
    end_run,
    log_records,
    metrics_of,
    open_trial_run,
    params_of,
)
from search.stores._tracking import StudyRun, connect
from search.stores._writer import BackgroundWriter, InlineWriter, Saved, Writer, _pool, result
from spaces import StoreError


def _open_run(stores) -> tuple[MlflowClient, str]:
    client = connect(stores.tracking_uri)
    experiment_id = client.create_experiment("writes")
    return client, client.create_run(experiment_id).info.run_id


def _write_a_trial(writer: Writer, run_id: str | Saved) -> None:
    writer.submit(log_records, run_id, (), params_of({"units_0": 64, "loss": "mse"}))
    for epoch in range(3):
        writer.submit(log_records, run_id, metrics_of({"loss": 1.0 / (epoch + 1)}, step=epoch))
    outcome = TrialOutcome("COMPLETE", value=0.5, duration_s=1.5, n_params=99)
    writer.submit(end_run, run_id, outcome, None, metrics_of({"val_loss": 0.7}, step=2))


def _assert_recorded(client: MlflowClient, run_id: str) -> None:
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"units_0": "64", "loss": "mse"}
    assert run.data.tags["tune.state"] == "COMPLETE"
    assert run.data.metrics["value"] == 0.5 and run.data.metrics["n_params"] == 99
    history = client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 1.0 / 3)]


@pytest.mark.parametrize("kind", ["inline", "background"])
def test_a_trial_is_recorded_in_order_once_drained(stores, kind: str) -> None:
    client, run_id = _open_run(stores)
    writer = InlineWriter(client) if kind == "inline" else BackgroundWriter(stores.tracking_uri)
    _write_a_trial(writer, run_id)
    writer.drain()
    _assert_recorded(client, run_id)


def _writer(kind: str, client: MlflowClient, tracking_uri: str) -> Writer:
    return InlineWriter(client) if kind == "inline" else BackgroundWriter(tracking_uri)


@pytest.mark.parametrize("kind", ["inline", "background"])
def test_a_run_opened_by_the_writer_is_written_to_before_its_id_is_known_here(
    stores, kind: str
) -> None:
    client, parent_id = _open_run(stores)
    experiment_id = client.get_run(parent_id).info.experiment_id
    writer = _writer(kind, client, stores.tracking_uri)
    opened = writer.submit(open_trial_run, experiment_id, parent_id, 7, save_as="trial-7")
    _write_a_trial(writer, Saved("trial-7"))
    writer.drain()
    run_id = result(opened)
    _assert_recorded(client, run_id)
    tags = client.get_run(run_id).data.tags
    assert tags["mlflow.parentRunId"] == parent_id and tags["tune.trial"] == "7"
    assert client.get_run(run_id).info.run_name == "trial-0007"


@pytest.mark.parametrize("kind", ["inline", "background"])
def test_a_study_run_opens_each_trial_run_through_its_writer(stores, kind: str) -> None:
    client = connect(stores.tracking_uri)
    experiment_id = client.create_experiment("trials")
    study_run = StudyRun.start(
        client, experiment_id, "trials", {}, _writer(kind, client, stores.tracking_uri)
    )
    trial = study_run.start_trial(3)
    study_run.log_params(trial, {"units_0": 64})
    study_run.end_trial(trial, TrialOutcome("PRUNED", duration_s=0.5), [])
    study_run.drain()
    run = client.get_run(trial.run_id)
    assert run.data.tags["tune.trial"] == "3" and run.data.tags["tune.state"] == "PRUNED"
    assert run.data.params == {"units_0": "64"} and run.info.status == "FINISHED"


def test_a_run_the_writer_could_not_open_fails_as_one_line(stores) -> None:
    writer = BackgroundWriter(stores.tracking_uri)
    opened = writer.submit(open_trial_run, "999999", "no-parent", 0, save_as="lost")
    with pytest.raises(StoreError, match="could not record trials in MLflow: ") as err:
        result(opened)
    assert "\n" not in str(err.value) and ".." not in str(err.value)
    writer.drain(strict=False)


def test_a_failed_background_write_is_raised_as_one_line_and_only_once(stores) -> None:
    client, run_id = _open_run(stores)
    writer = BackgroundWriter(stores.tracking_uri)
    writer.submit(log_records, "no-such-run", metrics_of({"loss": 1.0}))
    with pytest.raises(
        StoreError, match=r"could not record trials in MLflow: .*no-such-run"
    ) as err:
        writer.drain()
    assert "\n" not in str(err.value)
    _write_a_trial(writer, run_id)  # the failure is reported; later writes still land
    writer.drain()
    _assert_recorded(client, run_id)


def test_a_failure_stops_the_next_submit_and_a_lenient_drain_swallows_it(stores) -> None:
    writer = BackgroundWriter(stores.tracking_uri)
    writer.submit(log_records, "no-such-run", metrics_of({"loss": 1.0}))
    while not all(future.done() for future in writer.pending):
        pass
    with pytest.raises(StoreError, match="no-such-run"):
        writer.submit(log_records, "no-such-run", metrics_of({"loss": 2.0}))
    writer.drain(strict=False)  # as after Ctrl-C: close what can be closed, raise nothing
    assert writer.pending == []


def test_the_writer_process_outlives_a_ctrl_c(stores) -> None:
    client, run_id = _open_run(stores)
    writer = BackgroundWriter(stores.tracking_uri)
    pid = _pool().submit(os.getpid).result()
    assert pid != os.getpid()
    os.kill(pid, signal.SIGINT)  # what a Ctrl-C in the terminal sends the whole group
    _write_a_trial(writer, run_id)
    writer.drain()
    _assert_recorded(client, run_id)
    assert _pool().submit(os.getpid).result() == pid


def test_the_writer_process_loads_mlflow_but_not_tensorflow(stores) -> None:
    BackgroundWriter(stores.tracking_uri)
    # A builtin, so that running it does not import this test module (and TensorFlow).
    loaded = _pool().submit(eval, LOADED).result()
    assert loaded == ["mlflow"]


LOADED = "[m for m in ('mlflow', 'tensorflow', 'keras') if m in __import__('sys').modules]"


def test_a_relative_store_stays_the_one_meant_when_the_caller_moves(stores, tmp_path) -> None:
    client, run_id = _open_run(stores)  # the fixture's working directory holds mlruns/
    writer = BackgroundWriter("sqlite:///mlruns/mlflow.db")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)  # the fixture's monkeypatch restores the working directory
    _write_a_trial(writer, run_id)
    writer.drain()
    _assert_recorded(client, run_id)
    assert not (elsewhere / "mlruns").exists()


def test_the_writer_survives_the_removal_of_the_folder_it_last_wrote_from(stores, tmp_path) -> None:
    client, run_id = _open_run(stores)
    gone = tmp_path / "gone"
    gone.mkdir()
    os.chdir(gone)
    first = BackgroundWriter(stores.tracking_uri)
    first.submit(log_records, run_id, metrics_of({"warm": 1.0}))
    first.drain()  # the writer process now stands in `gone`
    os.chdir(stores.root)
    gone.rmdir()
    second = BackgroundWriter(stores.tracking_uri)
    _write_a_trial(second, run_id)
    second.drain()
    _assert_recorded(client, run_id)


ABANDON = """
import os, sys
from search.stores._writer import BackgroundWriter, _pool
BackgroundWriter(sys.argv[1])
with open(sys.argv[2], "w") as out:
    out.write(str(_pool().submit(os.getpid).result()))
os._exit(0)  # no goodbye to the writer, as under kill -9 or a test runner's exit
"""


def test_the_writer_process_exits_when_its_parent_dies_without_a_goodbye(stores, tmp_path) -> None:
    # No pipes to the child: a writer that outlived it would hold them open.
    pid_file = tmp_path / "writer.pid"
    subprocess.run(
        [sys.executable, "-c", ABANDON, stores.tracking_uri, str(pid_file)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=120,
        check=True,
    )
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _alive(pid):
        assert time.monotonic() < deadline, "the writer outlived its parent"
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
