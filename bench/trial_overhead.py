"""How much of a trial is spent outside Keras `fit` (sampling, building, logging)?

Target (issue 2): under 5% of a trial, on the default study; and the default `make run`
(breast_cancer, 20 trials) finishes in under 3 minutes on a 2-core machine.

    .venv/bin/python bench/trial_overhead.py [--trials 20]
"""

from __future__ import annotations

import argparse

from _common import (
    child_metric,
    finished_trials,
    median,
    private_stores,
    report,
    timed_run,
    trial_seconds,
)

from search._spec import StudySpec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    with private_stores() as (storage, tracking):
        spec = StudySpec(trials=args.trials, storage=storage, tracking_uri=tracking)
        wall = timed_run(spec)
        trials = finished_trials(storage, "breast_cancer")
        fit_by_trial = child_metric(tracking, "breast_cancer", "fit_s")
    totals = [trial_seconds(t) for t in trials]
    fits = [fit_by_trial.get(t.number, 0.0) for t in trials]
    shares = [(total - fit) / total for total, fit in zip(totals, fits, strict=True)]
    report(
        f"default study: breast_cancer, {len(trials)} trials, in-process, TF backend",
        [
            ("wall time of the run (s)", wall),
            ("median trial (s)", median(totals)),
            ("median time in fit (s)", median(fits)),
            (
                "median time outside fit (s)",
                median([t - f for t, f in zip(totals, fits, strict=True)]),
            ),
            ("median share outside fit", median(shares)),
            ("share outside fit, all trials", (sum(totals) - sum(fits)) / sum(totals)),
            ("target", "< 5% outside fit; run < 180 s"),
        ],
    )


if __name__ == "__main__":
    main()
