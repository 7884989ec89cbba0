"""Trial throughput of `--workers 2` against `--workers 1`, side by side in one run.

Target (issue 4): at least 1.7x on a 2-core machine. Both runs use the same small study;
throughput counts finished trials per second of the whole run (worker start-up included)
and per second of the steady state (first trial start to last trial end).

    .venv/bin/python bench/throughput.py [--trials 40] [--repeats 3]
"""

from __future__ import annotations

import argparse

from _common import finished_trials, median, private_stores, report, timed_run

from search.run._spec import StudySpec
from spaces import SpaceConfig


def measure(workers: int, trials: int) -> tuple[float, float]:
    """(whole-run, steady-state) trials per second of one run."""
    space = SpaceConfig(n_layers=(1, 2), epochs=(5, 10), batch_sizes=(32,))
    with private_stores() as (storage, tracking):
        spec = StudySpec(
            data="breast_cancer", trials=trials, workers=workers, pruner="none",
            storage=storage, tracking_uri=tracking, space_config=space,
        )  # fmt: skip
        wall = timed_run(spec)
        done = finished_trials(storage, "breast_cancer")
    first = min(t.datetime_start for t in done if t.datetime_start)
    last = max(t.datetime_complete for t in done if t.datetime_complete)
    return len(done) / wall, len(done) / (last - first).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for _ in range(args.repeats):  # interleaved, so drift in machine load hits both alike
        for workers in (1, 2):
            results[workers].append(measure(workers, args.trials))
    whole = {w: median([r[0] for r in rs]) for w, rs in results.items()}
    steady = {w: median([r[1] for r in rs]) for w, rs in results.items()}
    report(
        f"breast_cancer, {args.trials} trials, median of {args.repeats} interleaved repeats",
        [
            ("workers=1 trials/s (whole run)", whole[1]),
            ("workers=2 trials/s (whole run)", whole[2]),
            ("speed-up, whole run", whole[2] / whole[1]),
            ("workers=1 trials/s (steady state)", steady[1]),
            ("workers=2 trials/s (steady state)", steady[2]),
            ("speed-up, steady state", steady[2] / steady[1]),
            ("target", ">= 1.7x"),
        ],
    )


if __name__ == "__main__":
    main()
