"""Does a worker's memory stay flat over hundreds of trials?

Target (issue 4): a worker's RSS grows by less than 150 MB between trial 10 and trial 200
of a small study. The RSS is read at the end of each trial (its garbage is collected as the
next trial starts) and logged as the `rss_mb` metric of the trial's MLflow run.

    .venv/bin/python bench/memory.py [--trials 200]
"""

from __future__ import annotations

import argparse
from typing import Any

from _common import child_metric, private_stores, report, timed_run

from search._spec import StudySpec
from spaces import SpaceConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=200)
    args = parser.parse_args()
    space = SpaceConfig(epochs=(1, 3), batch_sizes=(32, 64))
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
    report(f"one worker, iris, {args.trials} trials of 1-3 epochs", rows)


if __name__ == "__main__":
    main()
