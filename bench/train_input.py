"""How should a trial feed its training split to Keras, and when should it run eagerly?

Times `fit` of the default study's textbook model (breast_cancer, two layers of 64, adam)
for a grid of epochs and batch sizes, four ways, interleaved within each round so that
the machine's noise falls on all alike: NumPy arrays through Keras's own adapter, or
objectives.training_batches (a tf.data dataset built once per fit); each eagerly or with
the train step traced. Prints the median over rounds, in ms per fit, and for each way of
feeding the step count above which tracing pays (objectives/_train.py EAGER_MAX_STEPS).

    .venv/bin/python bench/train_input.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict
from typing import Any

from _common import load_tune, median, report

GRID = ((2, 128), (4, 128), (6, 128), (8, 128), (5, 64), (10, 32), (10, 16), (30, 32))
WAYS = ("arrays, eager", "arrays, graph", "dataset, eager", "dataset, graph")


def fit_ms(
    data: Any, params: dict[str, Any], way: str, epochs: int, batch_size: int, seed: int
) -> float:
    """One fresh model's fit, fed and run as `way` says."""
    import gc

    from objectives import build_model, fresh_session, training_batches

    fresh_session(seed)
    model = build_model(params, data.problem)
    model.run_eagerly = way.endswith("eager")
    x, y = data.splits.x_train, data.splits.y_train
    started = time.perf_counter()
    if way.startswith("arrays"):
        model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    else:
        model.fit(training_batches(x, y, batch_size), epochs=epochs, shuffle=False, verbose=0)
    spent = time.perf_counter() - started
    del model
    gc.collect()
    return 1000 * spent


def _baseline(data: Any) -> dict[str, Any]:
    from spaces import SPACES, SpaceConfig

    return SPACES["dense"].baseline(data.problem, SpaceConfig())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    load_tune()
    from objectives import prepare

    data = prepare("breast_cancer")
    # The textbook model: what every default study enqueues first (n0 = 64 for 30 inputs).
    params = {**_baseline(data), "units_0": 64, "units_1": 64}
    rows_n = len(data.splits.x_train)
    spent: defaultdict[tuple[int, int, str], list[float]] = defaultdict(list)
    for seed in range(-1, args.rounds):  # round -1 warms the kernel caches, unrecorded
        for epochs, batch_size in GRID:
            for way in WAYS:
                ms = fit_ms(data, params, way, epochs, batch_size, seed)
                if seed >= 0:
                    spent[epochs, batch_size, way].append(ms)
    rows: list[tuple[str, Any]] = []
    for epochs, batch_size in GRID:
        steps = epochs * math.ceil(rows_n / batch_size)
        times = "  ".join(f"{median(spent[epochs, batch_size, w]):6.0f}" for w in WAYS)
        rows.append((f"{steps:4d} steps ({epochs} epochs of {batch_size})", times))
    rows.append(("ways, in order", " | ".join(WAYS)))
    report(f"fit of the textbook model, breast_cancer, ms, median of {args.rounds}", rows)


if __name__ == "__main__":
    main()
