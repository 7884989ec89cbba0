"""Bad input through `tune run`: one `error:` line, a non-zero exit, nothing left in the stores."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from mlflow import MlflowClient
from mlflow.entities import ViewType

from tests.conftest import obeying_file_modes
from tests.objectives.images import digits_folder
from tests.objectives.tiny import tiny_frame


def stores_are_empty(storage: str, tracking_uri: str) -> None:
    """Assert that no Optuna study and no MLflow run (or experiment) exists in the stores.

    A SQLite file that was never created counts as empty, and is not created by the check.
    """
    optuna_db = Path(storage.removeprefix("sqlite:///"))
    if not storage.startswith("sqlite:///") or optuna_db.exists():
        summaries = optuna.get_all_study_summaries(storage)
        assert summaries == [], [s.study_name for s in summaries]
    mlflow_db = Path(tracking_uri.removeprefix("sqlite:///"))
    if not tracking_uri.startswith("sqlite:///") or mlflow_db.exists():
        client = MlflowClient(tracking_uri=tracking_uri)
        experiments = client.search_experiments(view_type=ViewType.ALL)
        assert [e.name for e in experiments] in ([], ["Default"])
        ids = [e.experiment_id for e in experiments]
        assert not ids or client.search_runs(ids, run_view_type=ViewType.ALL) == []


def clean_error(err: str, out: str = "") -> str:
    """The one `error: ...` line of a failed command, after checking it is the only line."""
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert not lines[0].startswith("error: unexpected"), err  # a bug, not a named problem
    return lines[0]


@pytest.fixture
def fails(tune: Callable[..., Any], stores: Any) -> Callable[..., str]:
    """Run `tune run ARGS` on the test's stores, expect `code`; return the error line."""

    def run(*args: str, code: int) -> str:
        result = tune("run", "--quiet", *args, *stores.flags(), code=code)
        line = clean_error(result.err, result.out)
        stores_are_empty(stores.storage, stores.tracking_uri)
        assert not (stores.root / "artifacts").exists()
        return line

    return run


def _csv(tmp_path: Path, frame: pd.DataFrame | str | bytes, name: str = "data.csv") -> str:
    path = tmp_path / name
    if isinstance(frame, pd.DataFrame):
        frame.to_csv(path, index=False)
    elif isinstance(frame, str):
        path.write_text(frame, encoding="utf-8")
    else:
        path.write_bytes(frame)
    return str(path)


def test_missing_file(fails: Callable[..., str], tmp_path: Path) -> None:
    source = str(tmp_path / "nope.csv")
    line = fails("--data", source, code=1)
    assert line == f"error: data file '{source}' does not exist; check the path given to --data."


def test_a_refused_run_stops_the_helpers_it_started(
    fails: Callable[..., str], tmp_path: Path
) -> None:
    # The CLI starts --workers helpers before it reads the data; a refusal must end them.
    import multiprocessing

    before = set(multiprocessing.active_children())  # an earlier test's writer may live on
    source = str(tmp_path / "nope.csv")
    line = fails("--data", source, "--workers", "3", code=1)
    assert "does not exist" in line
    assert set(multiprocessing.active_children()) <= before


def test_unreadable_file(fails: Callable[..., str], tmp_path: Path) -> None:
    source = _csv(tmp_path, bytes(range(256)) * 8)
    assert fails("--data", source, code=1).startswith(f"error: cannot read data file '{source}'")


def test_a_folder_without_images(fails: Callable[..., str], tmp_path: Path) -> None:
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "folder.csv" / "cats").mkdir()
    line = fails("--data", str(tmp_path / "folder.csv"), code=1)
    assert line.endswith("; give one subfolder per class with its images in it.")


def test_a_broken_image(fails: Callable[..., str], tmp_path: Path) -> None:
    folder = digits_folder(tmp_path / "digits", per_class=3)
    (folder / "digit_2" / "x.jpg").write_bytes(b"\xff\xd8 not really")
    line = fails("--data", str(folder), code=1)
    assert line.startswith(f"error: cannot read image '{folder / 'digit_2' / 'x.jpg'}'")


def test_an_image_folder_with_one_class(fails: Callable[..., str], tmp_path: Path) -> None:
    folder = digits_folder(tmp_path / "digits", classes=1, per_class=20)
    assert "single class" in fails("--data", str(folder), code=1)


@pytest.mark.slow
def test_file_without_read_permission(stores: Any, tmp_path: Path) -> None:
    source = _csv(tmp_path, tiny_frame(20))
    os.chmod(source, 0)

    # In a process of its own, which obeys the file's mode even where the tests run as root.
    done = subprocess.run(
        [*obeying_file_modes(), sys.executable, "-m", "search", "run", "--quiet",
         "--data", source, *stores.flags()],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 1, done.stderr
    assert "Permission denied" in clean_error(done.stderr, done.stdout)
    stores_are_empty(stores.storage, stores.tracking_uri)


def test_csv_with_no_rows(fails: Callable[..., str], tmp_path: Path) -> None:
    source = _csv(tmp_path, "x0,x1,label\n")
    assert fails("--data", source, code=1).endswith(
        "has no rows; give a file with a header and data."
    )


def test_empty_csv(fails: Callable[..., str], tmp_path: Path) -> None:
    source = _csv(tmp_path, b"")
    assert fails("--data", source, code=1).endswith("is empty; give a file with a header and data.")


def test_unknown_target_column(fails: Callable[..., str], tmp_path: Path) -> None:
    source = _csv(tmp_path, tiny_frame(20))
    line = fails("--data", source, "--target", "price", code=1)
    assert line == "error: unknown target column 'price'. The columns are: x0, x1, colour, label."


def test_single_class_target(fails: Callable[..., str], tmp_path: Path) -> None:
    source = _csv(tmp_path, tiny_frame(20).assign(label=1))
    assert "target 'label' has a single class (1)" in fails("--data", source, code=1)


def test_too_few_rows(fails: Callable[..., str], tmp_path: Path) -> None:
    source = _csv(tmp_path, tiny_frame(8, "regression"))
    assert "too few rows to split: 8" in fails("--data", source, code=1)


def test_non_numeric_target_with_task_regression(fails: Callable[..., str], tmp_path: Path) -> None:
    source = _csv(tmp_path, tiny_frame(30, "multiclass"))
    line = fails("--data", source, "--task", "regression", code=1)
    assert "target 'label' is not numeric, so it cannot be a regression target" in line


def test_only_nan_targets(fails: Callable[..., str], tmp_path: Path) -> None:
    source = _csv(tmp_path, tiny_frame(20).assign(label=np.nan))
    line = fails("--data", source, code=1)
    assert line == "error: every row has a missing target value; fill the --target column."


def test_unknown_builtin(fails: Callable[..., str]) -> None:
    line = fails("--data", "irises", code=2)
    assert line.startswith("error: unknown built-in dataset 'irises'. Use one of: breast_cancer,")


def test_unknown_keys_in_the_config(fails: Callable[..., str], tmp_path: Path) -> None:
    config = _csv(tmp_path, "[study]\ntrails = 3\n[space]\nlayers = [1, 2]\n", "study.toml")
    assert "unknown key(s) in [study]: trails." in fails(
        "--data", "iris", "--config", config, code=2
    )


def test_unknown_space_keys_in_the_config(fails: Callable[..., str], tmp_path: Path) -> None:
    config = _csv(tmp_path, "[space]\nlayers = [1, 2]\n", "study.toml")
    assert "unknown key(s) in [space]: layers." in fails(
        "--data", "iris", "--config", config, code=2
    )


def test_inverted_ranges_in_the_config(fails: Callable[..., str], tmp_path: Path) -> None:
    config = _csv(tmp_path, "[space]\nlearning_rate = [0.1, 0.001]\n", "study.toml")
    line = fails("--data", "iris", "--config", config, code=2)
    assert (
        line
        == "error: learning_rate must have low <= high, but got learning_rate=[0.1, 0.001]; swap them."
    )


def test_zero_trials(fails: Callable[..., str]) -> None:
    assert fails("--data", "iris", "--trials", "0", code=2) == (
        "error: trials must be positive, but got trials=0."
    )


def test_an_unknown_keep_epoch(fails: Callable[..., str]) -> None:
    assert fails("--data", "iris", "--keep-epoch", "first", code=2) == (
        "error: Invalid value for '--keep-epoch': 'first' is not one of 'best', 'last'. "
        "(see tune run --help)"
    )


def test_negative_seed(fails: Callable[..., str]) -> None:
    assert "seed must be between 0 and" in fails("--data", "iris", "--seed", "-1", code=2)


def test_single_label_task_with_several_targets(fails: Callable[..., str], tmp_path: Path) -> None:
    source = _csv(tmp_path, tiny_frame(30, "multilabel"))
    line = fails("--data", source, "--target", "a,b", "--task", "binary", code=2)
    assert "--task binary needs one target column, but got 2 (a, b)" in line


def test_metric_that_does_not_fit_the_task(fails: Callable[..., str]) -> None:
    assert "metric 'rmse' does not apply to a multiclass task" in fails(
        "--data", "iris", "--metric", "rmse", code=2
    )


@pytest.mark.slow
def test_nan_targets_are_dropped_with_a_note(
    tune: Callable[..., Any], stores: Any, tmp_path: Path
) -> None:
    frame = tiny_frame(30)
    frame.loc[[2, 5], "label"] = np.nan
    source = _csv(tmp_path, frame)
    args = ["run", "--data", source, "--trials", "1", "--max-epochs", "1", "--quiet"]
    result = tune(*args, *stores.flags())
    assert "Note: dropped 2 row(s) with a missing target value" in result.out
    assert "Traceback" not in result.err
    study = optuna.load_study(study_name="data", storage=stores.storage)
    assert len(study.trials) == 1


def test_an_npz_file_without_x_and_y(fails: Callable[..., str], tmp_path: Path) -> None:
    np.savez(tmp_path / "arrays.npz", inputs=np.zeros((30, 2)), labels=np.zeros(30))
    line = fails("--data", str(tmp_path / "arrays.npz"), code=1)
    assert line.endswith(
        "holds arrays ['inputs', 'labels']; an .npz file needs an array 'x' (inputs, one row "
        "per example) and an array 'y' (targets)."
    )


def test_the_cnn_space_on_data_that_is_not_images(fails: Callable[..., str]) -> None:
    line = fails("--data", "iris", "--space", "cnn", code=2)
    assert line.startswith("error: the cnn space needs images: give a folder of images")


@pytest.mark.parametrize("flag", ["--storage", "--tracking-uri"])
def test_a_store_whose_folder_cannot_be_created(
    tune: Callable[..., Any], stores: Any, tmp_path: Path, flag: str
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    unwritable = f"sqlite:///{blocker}/sub/store.db"
    flags = {"--storage": stores.storage, "--tracking-uri": stores.tracking_uri, flag: unwritable}
    args = [part for pair in flags.items() for part in pair]
    result = tune("run", "--quiet", "--data", "iris", "--trials", "1", *args, code=2)
    line = clean_error(result.err, result.out)
    assert f"cannot create the folder {blocker}/sub" in line
    assert "Give a writable location" in line
    # The other store is left as it was: no study, no run.
    if flag == "--storage":
        stores_are_empty(f"sqlite:///{tmp_path}/never.db", stores.tracking_uri)
    else:
        stores_are_empty(stores.storage, f"sqlite:///{tmp_path}/never.db")
