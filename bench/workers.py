"""`--workers 2` against `--workers 1` through the CLI, start-up included (issue #16).

Each run is `tune run --data digits --trials 24 --max-epochs 8` in a fresh folder (so its
stores are created), timed from the launch of the command to its exit. Runs alternate, so
drift in the machine's load hits every variant alike. Also split out: the seconds from launch
to the first trial's start (Optuna's stamp), from it to the last trial's end, and after that.

With `--against REV`, the same runs are made with the code of that commit too (a git worktree
put first on PYTHONPATH, the same virtual environment), so a change is measured side by side
with the code before it.

    .venv/bin/python bench/workers.py [--repeats 3] [--against REV] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import optuna
from _common import median, report, worktree

ROOT = Path(__file__).resolve().parents[1]
TUNE = ["-m", "search", "run", "--data", "digits", "--trials", "24", "--max-epochs", "8",
        "--quiet", "--no-report"]  # fmt: skip


def one_run(code: Path, workers: int) -> dict[str, float]:
    """Seconds of one `tune run` with the code under `code`: whole, start, trials, end."""
    env = {**os.environ, "PYTHONPATH": str(code), "TF_CPP_MIN_LOG_LEVEL": "3"}
    with tempfile.TemporaryDirectory(prefix="tune-workers-") as folder:
        command = [sys.executable, *TUNE, "--workers", str(workers)]
        started = time.time()
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
        ended = time.time()
        if done.returncode != 0:
            raise SystemExit(f"tune run --workers {workers} failed:\n{done.stdout}{done.stderr}")
        storage = f"sqlite:///{folder}/mlruns/optuna.db"
        trials = optuna.load_study(study_name="digits", storage=storage).trials
    first = min(t.datetime_start.timestamp() for t in trials if t.datetime_start)
    last = max(t.datetime_complete.timestamp() for t in trials if t.datetime_complete)
    return {
        "whole": ended - started,
        "start": first - started,
        "trials": last - first,
        "end": ended - last,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--against", metavar="REV", help="also run the code of this commit")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="counts to run")
    args = parser.parse_args()
    with ExitStack() as stack:
        codes = {"now": ROOT}
        if args.against:
            codes[args.against] = worktree(stack, args.against)
        variants = [(label, w) for label in codes for w in args.workers]
        runs: dict[tuple[str, int], list[dict[str, float]]] = {v: [] for v in variants}
        for _ in range(args.repeats):
            for label, workers in variants:
                runs[(label, workers)].append(one_run(codes[label], workers))
    rows: list[tuple[str, object]] = []
    for (label, workers), measured in runs.items():
        for part in ("whole", "start", "trials", "end"):
            rows.append(
                (f"{label} workers={workers}: {part} (s)", median([m[part] for m in measured]))
            )
    for label in codes if {1, 2} <= set(args.workers) else ():
        one = median([m["whole"] for m in runs[(label, 1)]])
        two = median([m["whole"] for m in runs[(label, 2)]])
        rows.append((f"{label}: workers=2 speed-up, whole run", one / two))
    if args.against and 1 in args.workers:
        now = median([m["whole"] for m in runs[("now", 1)]])
        before = median([m["whole"] for m in runs[(args.against, 1)]])
        rows.append((f"workers=1, now / {args.against} (whole run)", now / before))
    rows.append(("target", ">= 1.5x, workers=1 no slower"))
    report(f"digits, 24 trials, --max-epochs 8, median of {args.repeats} (interleaved)", rows)


if __name__ == "__main__":
    main()
