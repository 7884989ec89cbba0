"""Does a worker's memory stay flat over hundreds of trials?

Target (issue 4): a worker's RSS grows by less than 150 MB between trial 10 and trial 200
of a small study. The RSS is read at the end of each trial (its garbage is collected as the
next trial starts) and logged as the `rss_mb` metric of the trial's MLflow run.

By default every trial trains eagerly (iris, 1-3 epochs: under train_model's EAGER_MAX_STEPS).
`--graph` makes every trial long enough for Keras to trace its train step as a tf.function,
as most trials of the default study are. Those trials grew RSS by 392 MB over trials 10 to
60 until tune unregistered the custom gradients that kept each traced graph alive
(objectives/_session.py); then +3.5 MB, and -1.9 MB with tf.data input (2026-12-03).

    .venv/bin/python bench/memory.py [--trials 200] [--graph]
"""

from __future__ import annotations

import argparse
from typing import Any

from _common import child_metric, private_stores, report, timed_run

from search.run._spec import StudySpec
from spaces import SpaceConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--graph", action="store_true", help="graph-mode trials (traced)")
    args = parser.parse_args()
    # Iris trains on about 90 rows: 1-3 epochs of 32 or 64 take at most 9 steps, 10-12 of 16
    # take 60 or more.
    epochs, batches = ((10, 12), (16,)) if args.graph else ((1, 3), (32, 64))
    space = SpaceConfig(epochs=epochs, batch_sizes=batches)
    with private_stores() as (storage, tracking):
        spec = StudySpec(
            data="iris", trials=args.trials, pruner="none", storage=storage,
            tracking_uri=tracking, space_config=space,
        )  # fmt: skip
        wall = timed_run(spec)
        rss = child_metric(tracking, "iris", "rss_mb")
    late = min(args.trials - 1, 199)
    rows: list[tuple[str, Any]] = [
        (f"RSS after trial {n} (MB)", rss[n]) for n in (0, 9, 49, 99, late) if n in rss
    ]
    rows += [
        (f"growth trial 10 -> {late + 1} (MB)", rss[late] - rss[9]),
        ("wall time (s)", wall),
        ("target", "growth < 150 MB"),
    ]
    mode = "graph-mode" if args.graph else "eager"
    span = f"{epochs[0]}-{epochs[1]}"
    report(f"one worker, iris, {args.trials} {mode} trials of {span} epochs", rows)


if __name__ == "__main__":
    main()
