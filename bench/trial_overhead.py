"""How much of a trial is spent outside Keras `fit` (sampling, building, logging)?

Target (issue 2): under 5% of a trial, on the default study; and the default `make run`
(breast_cancer, 20 trials) finishes in under 3 minutes on a 2-core machine.

With `--compare`, the default study runs `--rounds` times as tune runs it (trial records
through the writer process) and as many times with the records written inline by the
trial's own process, alternating, and prints both side by side: the machine's noise
then falls on both alike.

    .venv/bin/python bench/trial_overhead.py [--trials 20] [--compare --rounds 3]
"""

from __future__ import annotations

import argparse
from typing import Any

from _common import (
    child_metric,
    finished_trials,
    load_tune,
    median,
    private_stores,
    report,
    timed_run,
    trial_seconds,
)

from search.run._spec import StudySpec

MODES = ("writer process", "inline")


def measure(trials: int) -> dict[str, float]:
    """One default study in private stores: its wall time and trial timings."""
    with private_stores() as (storage, tracking):
        wall = timed_run(StudySpec(trials=trials, storage=storage, tracking_uri=tracking))
        finished = finished_trials(storage, "breast_cancer")
        fit_by_trial = child_metric(tracking, "breast_cancer", "fit_s")
    totals = [trial_seconds(t) for t in finished]
    fits = [fit_by_trial.get(t.number, 0.0) for t in finished]
    outside = [total - fit for total, fit in zip(totals, fits, strict=True)]
    return {
        "wall time of the run (s)": wall,
        "median trial (s)": median(totals),
        "median time in fit (s)": median(fits),
        "median time outside fit (ms)": 1000 * median(outside),
        "median share outside fit (%)": 100
        * median([o / t for o, t in zip(outside, totals, strict=True)]),
        "share outside fit, all trials (%)": 100 * sum(outside) / sum(totals),
    }


def in_mode(mode: str, trials: int) -> dict[str, float]:
    """measure() with the trial records written as `mode` says."""
    import search.run._runner as runner

    if mode == "writer process":
        return measure(trials)
    real = runner._writer
    runner._writer = lambda setup: None  # StudyRun then writes inline
    try:
        return measure(trials)
    finally:
        runner._writer = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--compare", action="store_true", help="writer process vs inline")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each, with --compare")
    args = parser.parse_args()
    load_tune()
    title = f"default study: breast_cancer, {args.trials} trials, in-process, TF backend"
    target = ("target", "< 5% outside fit; run < 180 s")
    if not args.compare:
        rows: list[tuple[str, Any]] = list(measure(args.trials).items())
        report(title, [*rows, target])
        return
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in MODES}
    for round_ in range(args.rounds):
        for mode in MODES if round_ % 2 == 0 else MODES[::-1]:
            runs[mode].append(in_mode(mode, args.trials))
    names = list(runs[MODES[0]][0])
    rows = [
        (name, " / ".join(f"{median([r[name] for r in runs[m]]):.4g}" for m in MODES))
        for name in names
    ]
    report(f"{title}; median of {args.rounds} runs each: {' / '.join(MODES)}", [*rows, target])


if __name__ == "__main__":
    main()
