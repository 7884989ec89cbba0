"""Trial throughput of several worker processes against one, side by side in one run.

Target (issue 4): `--workers 2` at least 1.7x `--workers 1` on a 2-core machine. Every run
uses the same small study; throughput counts finished trials per second of the whole run
(worker start-up included) and per second of the steady state (first trial start to last
trial end).

    .venv/bin/python bench/throughput.py [--trials 40] [--repeats 3]
    .venv/bin/python bench/throughput.py --storage postgresql://tune@db-host/optuna [--repeats 1]

With `--storage`, 1, 2 and 4 workers run through the CLI (`tune run` in a process of its own)
on that storage, each in a study of its own that is deleted afterwards, with a private MLflow
store; on 2 cores, 4 workers measure contention on the shared stores, not speed-up.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tomllib
import uuid
from pathlib import Path

import optuna
from _common import finished_trials, median, private_stores, report, timed_run

from search.run._spec import StudySpec
from spaces import SpaceConfig

STUDY_FILE = """[study]
data = "breast_cancer"
pruner = "none"

[space]
n_layers = [1, 2]
epochs = [5, 10]
batch_sizes = [32]
"""
SPACE = SpaceConfig.from_mapping(tomllib.loads(STUDY_FILE)["space"])  # the same space in-process


def measure(workers: int, trials: int) -> tuple[float, float]:
    """(whole-run, steady-state) trials per second of one run in this process."""
    with private_stores() as (storage, tracking):
        spec = StudySpec(
            data="breast_cancer", trials=trials, workers=workers, pruner="none",
            storage=storage, tracking_uri=tracking, space_config=SPACE,
        )  # fmt: skip
        wall = timed_run(spec)
        return rates(finished_trials(storage, "breast_cancer"), wall)


def measure_cli(workers: int, trials: int, storage: str) -> tuple[float, float]:
    """(whole-run, steady-state) trials per second of one `tune run` on `storage`."""
    study = f"throughput-{uuid.uuid4().hex[:8]}"
    with private_stores() as (_, tracking):
        (Path.cwd() / "study.toml").write_text(STUDY_FILE)
        command = [sys.executable, "-m", "search", "run", "--config", "study.toml",
                   "--study", study, "--trials", str(trials), "--workers", str(workers),
                   "--storage", storage, "--tracking-uri", tracking, "--quiet", "--no-report"]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"tune run --workers {workers} failed:\n{done.stdout}{done.stderr}")
    try:
        return rates(finished_trials(storage, study), wall)
    finally:
        optuna.delete_study(study_name=study, storage=storage)


def rates(done: list[optuna.trial.FrozenTrial], wall: float) -> tuple[float, float]:
    """(whole-run, steady-state) trials per second of a run's finished trials."""
    first = min(t.datetime_start for t in done if t.datetime_start)
    last = max(t.datetime_complete for t in done if t.datetime_complete)
    return len(done) / wall, len(done) / (last - first).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--storage", help="an RDB storage URL: run 1, 2 and 4 workers there")
    args = parser.parse_args()
    counts = (1, 2, 4) if args.storage else (1, 2)
    results: dict[int, list[tuple[float, float]]] = {w: [] for w in counts}
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits all alike
        for workers in counts:
            if args.storage:
                results[workers].append(measure_cli(workers, args.trials, args.storage))
            else:
                results[workers].append(measure(workers, args.trials))
    where = "through the CLI on the given storage" if args.storage else "in-process, SQLite"
    rows: list[tuple[str, object]] = []
    for index, label in enumerate(("whole run", "steady state")):
        rate = {w: median([r[index] for r in rs]) for w, rs in results.items()}
        rows += [(f"workers={w} trials/s ({label})", rate[w]) for w in counts]
        rows += [(f"workers={w} / workers=1, {label}", rate[w] / rate[1]) for w in counts[1:]]
    rows.append(("target", ">= 1.7x for workers=2"))
    report(
        f"breast_cancer, {args.trials} trials, {where}, "
        f"median of {args.repeats} interleaved repeats",
        rows,
    )


if __name__ == "__main__":
    main()
