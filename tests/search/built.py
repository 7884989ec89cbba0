"""One small real study per test module: built once with `tune run`, then only read."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import Stores

SMALL_RUN = ("--trials", "3", "--max-epochs", "2", "--quiet")
# The HTML and PNG report takes seconds to draw; only the report's own tests need it.
NO_REPORT = ("--no-report",)


def make_stores(root: Path, migrated_mlflow_db: Path) -> Stores:
    """Private stores under `root`, from the session's migrated MLflow template."""
    root.mkdir(parents=True)
    shutil.copy(migrated_mlflow_db, root / "mlflow.db")
    return Stores(root, f"sqlite:///{root / 'optuna.db'}", f"sqlite:///{root / 'mlflow.db'}")


@contextmanager
def built_study(
    tmp_path_factory: pytest.TempPathFactory,
    migrated_mlflow_db: Path,
    *run_args: str,
    report: bool = False,
) -> Iterator[Stores]:
    """Run `tune run ... RUN_ARGS` into fresh stores, with a private working directory."""
    from search.cli import main

    work = tmp_path_factory.mktemp("study")
    stores = make_stores(work / "mlruns", migrated_mlflow_db)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(work)
        extra = () if report else NO_REPORT
        code = main(["run", *run_args, *SMALL_RUN, *extra, *stores.flags()])
        assert code == 0, f"tune run failed with exit {code}"
        yield stores


def flowers_csv(folder: Path) -> Path:
    """Iris as a user's file: text labels, a text column and a few missing values."""
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    frame = bunch.frame.drop(columns="target")
    frame["site"] = ["north", "south", "east"] * (len(frame) // 3)
    frame.loc[[3, 40, 77], "sepal width (cm)"] = None
    frame["species"] = bunch.target_names[bunch.target]
    path = folder / "flowers.csv"
    frame.to_csv(path, index=False)
    return path
