"""The rnn family against the dense one on sequences whose order decides the label.

Data: 1,000 sequences of 24 steps and 1 feature: noise (sd 0.3) with one upward spike (+1.5)
and one downward spike (-1.5) at two random steps; the label says whether the upward spike
comes first. The same values in another order give the other label, so only the order of
the steps tells the classes apart, and where the spikes sit varies from sequence to sequence.

For each seed, `--space rnn` and `--space dense` each get the same wall budget (`--timeout`,
default 3 minutes) on the same data, one worker, no report. Recorded per run: the trials
finished in the budget, the best validation accuracy, the test accuracy of the model `tune
export` ships, and the wall time (a trial running when the budget ends is finished).

    python bench/rnn.py                       # seeds 0 1 2, 3 minutes a study: about 20 minutes
    python bench/rnn.py --seeds 0 --budget 60 --spaces rnn
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import finished_trials, load_tune, median, private_stores, report

from search.run._spec import StudySpec

ROWS, STEPS = 1000, 24
SPIKE, NOISE = 1.5, 0.3


def order_npz(folder: Path, seed: int = 0) -> str:
    """The benchmark's data as an .npz file: x (1000, 24, 1), y 0 or 1."""
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, NOISE, size=(ROWS, STEPS))
    up, down = (rng.permuted(np.tile(np.arange(STEPS), (ROWS, 1)), axis=1)[:, :2]).T
    rows = np.arange(ROWS)
    x[rows, up] += SPIKE
    x[rows, down] -= SPIKE
    path = folder / "order.npz"
    np.savez(path, x=x[..., None].astype("float32"), y=(up < down).astype("int64"))
    return str(path)


def run_one(data: str, space: str, seed: int, budget: float) -> dict[str, Any]:
    """One study in private stores; what it finished and what its shipped model scores."""
    from search.run._runner import run

    with private_stores() as (storage, tracking):
        spec = StudySpec(
            data=data,
            space=space,
            study="order",
            storage=storage,
            tracking_uri=tracking,
            trials=10_000,
            timeout=budget,
            seed=seed,
            report=False,
        )
        started = time.perf_counter()
        result = run(spec, show_progress=False, announce=lambda line: None)
        wall = time.perf_counter() - started
        trials = finished_trials(storage, "order")
    states = [t.state.name for t in trials]
    return {
        "space": space,
        "seed": seed,
        "trials": len(trials),
        "complete": states.count("COMPLETE"),
        "pruned": states.count("PRUNED"),
        "best_val": result.best["value"] if result.best else None,
        "test": result.test_score,
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--budget", type=float, default=180.0, help="seconds per study")
    parser.add_argument("--spaces", nargs="+", default=["rnn", "dense"])
    parser.add_argument("--out", type=Path, help="also write the results here, as JSON")
    args = parser.parse_args()
    load_tune()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        data = order_npz(Path(folder))
        for seed in args.seeds:
            for space in args.spaces:
                results.append(run_one(data, space, seed, args.budget))
                print(json.dumps(results[-1]), flush=True)
    for space in args.spaces:
        mine = [r for r in results if r["space"] == space]
        report(
            f"--space {space}, {len(mine)} seed(s), {args.budget:.0f} s each",
            [
                ("median trials finished", median([float(r["trials"]) for r in mine])),
                ("fewest trials finished", min(r["trials"] for r in mine)),
                ("median test accuracy", median([r["test"] for r in mine if r["test"]])),
                ("median best validation", median([r["best_val"] for r in mine if r["best_val"]])),
            ],
        )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
