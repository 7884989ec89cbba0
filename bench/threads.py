"""Does a trial's `fit` run faster on one TensorFlow thread than on one per core?

With `--workers 1`, TensorFlow sizes its thread pools to the machine's cores; with N workers
each process gets cores / N (search/run/_helpers.py). Small models give each op too little
work to share out, so the threads may cost more than they give. A thread count is fixed when
TensorFlow starts, so each (count, dataset) pair trains in a process of its own, the
processes interleaved: the textbook model and three drawn from the family's space, through
the trial's own `train_model`, one warm-up round unrecorded, then `--rounds` rounds.

Prints, per dataset, the median fit time of each model with 1 thread against the default
(one per core), and the mean final validation score of each. iris is not among
bench/compare.py's datasets; `wide` (5,000 rows, 100 features, synthetic) is larger than any
of them, and `digits-cnn` reads digits as 8x8 images for the cnn family.

    .venv/bin/python bench/threads.py [--repeats 2] [--rounds 2] [--datasets digits wide]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from _common import configurations, median, report

DATASETS = ("breast_cancer", "digits", "iris", "wide", "digits-cnn")
DRAWN = 3  # models drawn from the space, besides the textbook one
THREADS = (0, 1)  # 0: TensorFlow's default, one per core


def source(name: str, folder: Path) -> tuple[str, str, str]:
    """(prepare's source, layout, family) of a dataset of this script."""
    if name == "digits-cnn":
        return "digits", "images", "cnn"
    if name == "wide":
        import numpy as np
        from sklearn.datasets import make_classification

        path = folder / "wide.npz"
        if not path.exists():
            x, y = make_classification(5_000, 100, n_informative=30, random_state=0)
            np.savez(path, x=x.astype("float32"), y=y)
        return str(path), "rows", "dense"
    return name, "rows", "dense"


def child(name: str, threads: int, rounds: int, folder: Path) -> None:
    """Train every configuration `rounds` times (after a warm-up) and print the timings."""
    from _common import load_tune

    load_tune()
    if threads:
        from search.run._worker import configure_threads

        configure_threads(threads)
    from objectives import build_model, fresh_session, get_metric, prepare, train_model
    from spaces import SPACES

    data_source, layout, family = source(name, folder)
    builder = SPACES[family].builder
    data = prepare(data_source, layout=layout)
    metric = get_metric(None, data.problem.task)
    fits: defaultdict[int, list[float]] = defaultdict(list)
    scores: list[float] = []
    chosen = configurations(data.problem, DRAWN, family)
    for seed in range(-1, rounds):  # round -1 warms the kernel caches, unrecorded
        for index, params in enumerate(chosen):
            fresh_session(seed)
            model = build_model(params, data.problem, metric, family=builder)
            started = time.perf_counter()
            history = train_model(model, data.splits, params, metric=metric, task=data.problem.task)
            if seed >= 0:
                fits[index].append(time.perf_counter() - started)
                scores.append(history.history[f"val_{metric.name}"][-1])
    print(json.dumps({"fits": fits, "scores": scores}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2, help="processes per thread count")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        name, threads, rounds, folder = args.child
        child(name, int(threads), int(rounds), Path(folder))
        return
    with tempfile.TemporaryDirectory(prefix="tune-threads-") as folder:
        for name in args.datasets:
            fits: defaultdict[tuple[int, int], list[float]] = defaultdict(list)
            scores: defaultdict[int, list[float]] = defaultdict(list)
            for _ in range(args.repeats):
                for threads in THREADS:
                    found = _spawn(name, threads, args.rounds, folder)
                    for index, seconds in found["fits"].items():
                        fits[threads, int(index)] += seconds
                    scores[threads] += found["scores"]
            _report(name, fits, scores, args)


def _spawn(name: str, threads: int, rounds: int, folder: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", name, str(threads), str(rounds), folder]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _report(
    name: str,
    fits: dict[tuple[int, int], list[float]],
    scores: dict[int, list[float]],
    args: argparse.Namespace,
) -> None:
    models = sorted({index for _, index in fits})
    ratios = [median(fits[1, i]) / median(fits[0, i]) for i in models]
    rows: list[tuple[str, Any]] = [
        (
            "1 thread: fit time / default's (median per model)",
            ", ".join(f"{r:.2f}" for r in ratios),
        ),
        ("  fits in all, default (s)", sum(median(fits[0, i]) for i in models)),
        ("  fits in all, 1 thread (s)", sum(median(fits[1, i]) for i in models)),
        ("  mean final validation score, default", sum(scores[0]) / len(scores[0])),
        ("  mean final validation score, 1 thread", sum(scores[1]) / len(scores[1])),
    ]
    report(
        f"{name}: the textbook model and {DRAWN} drawn, median of "
        f"{args.repeats} processes x {args.rounds} rounds, {os.cpu_count()} cores",
        rows,
    )


if __name__ == "__main__":
    main()
