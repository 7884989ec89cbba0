"""Shared helpers of the benchmarks: private stores, a quiet runner, trial timings."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import optuna
from mlflow import MlflowClient

from search.run._spec import StudySpec


@contextmanager
def private_stores() -> Iterator[tuple[str, str]]:
    """A throw-away (Optuna storage URL, MLflow tracking URI) pair; the cwd moves there too."""
    here = Path.cwd()
    with tempfile.TemporaryDirectory(prefix="tune-bench-") as root:
        os.chdir(root)
        try:
            yield f"sqlite:///{root}/optuna.db", f"sqlite:///{root}/mlflow.db"
        finally:
            os.chdir(here)


def load_tune() -> None:
    """Load Keras and tune's runner, quietly.

    Benchmarks call this from main(), never at import: tune's writer process is spawned,
    so it imports the benchmark's own module again, and should load no more there than it
    does under `tune run` (MLflow, not TensorFlow).
    """
    from search._quiet import load_quietly

    load_quietly()
    import search.run._runner  # noqa: F401


def timed_run(spec: StudySpec) -> float:
    """Run a study quietly; returns its wall time in seconds."""
    load_tune()
    from search.run._runner import run

    started = time.perf_counter()
    run(spec, show_progress=False, announce=lambda line: None)
    return time.perf_counter() - started


def finished_trials(storage: str, study: str) -> list[optuna.trial.FrozenTrial]:
    """The study's finished trials, in order."""
    trials = optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)
    return [t for t in trials if t.state.is_finished()]


def trial_seconds(trial: optuna.trial.FrozenTrial) -> float:
    """From the trial's creation (before sampling) to its end (after logging)."""
    assert trial.datetime_start is not None and trial.datetime_complete is not None
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def child_metric(tracking_uri: str, study: str, key: str) -> dict[int, float]:
    """A metric of every trial's child run, by trial number."""
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name(study)
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], "tags.`tune.role` = 'trial'", max_results=10_000
    )
    return {
        int(r.data.tags["tune.trial"]): r.data.metrics[key] for r in runs if key in r.data.metrics
    }


def worktree(stack: ExitStack, rev: str) -> Path:
    """A checkout of commit `rev`, removed when `stack` closes: put first on PYTHONPATH (with
    the same virtual environment), it runs the code before a change side by side with it."""
    root = Path(__file__).resolve().parents[1]
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tune-rev-")))
    subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", str(folder), rev],
                   check=True, capture_output=True)  # fmt: skip
    stack.callback(
        subprocess.run, ["git", "-C", str(root), "worktree", "remove", "--force", str(folder)]
    )
    return folder


def textbook_params(problem: Any, family_name: str = "dense") -> dict[str, Any]:
    """The textbook model's parameters (what every default study tries first) for a problem."""
    from optuna.trial import FixedTrial

    from spaces import SPACES, SpaceConfig

    family, config = SPACES[family_name], SpaceConfig()
    return family.suggest(FixedTrial(family.baseline(problem, config)), problem, config)


def configurations(problem: Any, count: int, family_name: str = "dense") -> list[dict[str, Any]]:
    """The family's textbook parameters, then `count` drawn from its space (seed 0)."""
    from spaces import SPACES, SpaceConfig

    family, config = SPACES[family_name], SpaceConfig()
    chosen = [textbook_params(problem, family_name)]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(count):
        chosen.append(family.suggest(study.ask(), problem, config))
    return chosen


def median(values: list[float]) -> float:
    """The median, or NaN for no values."""
    return statistics.median(values) if values else float("nan")


def report(title: str, rows: list[tuple[str, Any]]) -> None:
    """Print a small aligned table."""
    print(f"\n{title}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        print(f"  {name:<{width}}  {shown}")


def tally(gains: list[float], tie: float) -> str:
    """ "ahead / level / behind": how many `gains` (signed so that + is better) exceed `tie`,
    are within it, or fall below -`tie`."""
    counts = (
        sum(g > tie for g in gains),
        sum(abs(g) <= tie for g in gains),
        sum(g < -tie for g in gains),
    )
    return " / ".join(map(str, counts))


def recorded_cells(results: Path) -> list[dict[str, Any]]:
    """Every cell a resumable benchmark has appended to its JSON-lines file so far."""
    if not results.is_file():
        return []
    return [json.loads(line) for line in results.read_text().splitlines() if line.strip()]


def append_cell(results: Path, cell: dict[str, Any]) -> None:
    """Record a finished cell (so a rerun skips it) and show it."""
    results.parent.mkdir(parents=True, exist_ok=True)
    with results.open("a") as out:
        out.write(json.dumps(cell) + "\n")
    print(json.dumps(cell), flush=True)


def run_missing(
    results: Path,
    keys: list[tuple[Any, ...]],
    fields: tuple[str, ...],
    run: Callable[..., dict[str, Any]],
) -> None:
    """Run, in `keys`' order, every cell whose key (its `fields`) `results` does not hold
    yet; `run` gets the key's values and a scratch folder shared by the whole run."""
    load_tune()
    done = {tuple(cell[f] for f in fields) for cell in recorded_cells(results)}
    with tempfile.TemporaryDirectory() as folder:
        for key in keys:
            if key not in done:
                append_cell(results, run(*key, Path(folder)))
