"""How should a trial feed its training split to Keras, and when should it run eagerly?

Times `fit` of the default study's textbook model (breast_cancer, two layers of 64, adam)
for a grid of epochs and batch sizes, four ways, interleaved within each round so that
the machine's noise falls on all alike: NumPy arrays through Keras's own adapter, or
objectives.training_batches (a tf.data dataset built once per fit); each eagerly or with
the train step traced. Prints the median over rounds, in ms per fit, and for each way of
feeding the step count above which tracing pays (objectives/_train.py EAGER_MAX_STEPS).

With `--rows N`, the training split is N synthetic rows of 30 inputs instead, fed both
ways with the train step traced, two epochs of 32 and of 256: where Keras's adapter, whose
shuffle is vectorised, overtakes the dataset (objectives/_train.py DATASET_MAX_ROWS).

    .venv/bin/python bench/train_input.py [--rounds 5] [--rows N]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict
from typing import Any

import numpy as np
from _common import load_tune, median, report, textbook_params

# The problem, the training inputs and the training targets.
Train = tuple[Any, np.ndarray, np.ndarray]

GRID = ((2, 128), (4, 128), (6, 128), (8, 128), (5, 64), (10, 32), (10, 16), (30, 32))
WAYS = ("arrays, eager", "arrays, graph", "dataset, eager", "dataset, graph")
LARGE_GRID = ((2, 32), (2, 256))
LARGE_WAYS = ("arrays, graph", "dataset, graph")


def fit_ms(
    train: Train, params: dict[str, Any], way: str, epochs: int, batch_size: int, seed: int
) -> float:
    """One fresh model's fit, fed and run as `way` says."""
    import gc

    from objectives import build_model, fresh_session, training_batches
    from objectives._train import steps_per_execution

    problem, x, y = train
    fresh_session(seed)
    model = build_model(params, problem)
    model.run_eagerly = way.endswith("eager")
    model.steps_per_execution = steps_per_execution(model.run_eagerly)  # as trials train
    started = time.perf_counter()
    if way.startswith("arrays"):
        model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    else:
        model.fit(training_batches(x, y, batch_size), epochs=epochs, shuffle=False, verbose=0)
    spent = time.perf_counter() - started
    del model
    gc.collect()
    return 1000 * spent


def textbook_setup(rows: int | None) -> tuple[Train, dict[str, Any], str]:
    """The training data, the textbook model's parameters, and what the data is."""
    from objectives import prepare

    data = prepare("breast_cancer")
    params = textbook_params(data.problem)
    x, y = data.splits.x_train, data.splits.y_train
    if rows is None:
        return (data.problem, x, y), params, "breast_cancer"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, x.shape[1])).astype("float32")
    y = (x[:, :1] + x[:, 1:2] > 0).astype("float32")
    return (data.problem, x, y), params, f"{rows} synthetic rows"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rows", type=int, default=None, help="synthetic training rows")
    args = parser.parse_args()
    load_tune()
    train, params, what = textbook_setup(args.rows)
    grid, ways = (GRID, WAYS) if args.rows is None else (LARGE_GRID, LARGE_WAYS)
    spent: defaultdict[tuple[int, int, str], list[float]] = defaultdict(list)
    for seed in range(-1, args.rounds):  # round -1 warms the kernel caches, unrecorded
        for epochs, batch_size in grid:
            for way in ways:
                ms = fit_ms(train, params, way, epochs, batch_size, seed)
                if seed >= 0:
                    spent[epochs, batch_size, way].append(ms)
    rows: list[tuple[str, Any]] = []
    for epochs, batch_size in grid:
        steps = epochs * math.ceil(len(train[1]) / batch_size)
        times = "  ".join(f"{median(spent[epochs, batch_size, w]):6.0f}" for w in ways)
        rows.append((f"{steps:4d} steps ({epochs} epochs of {batch_size})", times))
    rows.append(("ways, in order", " | ".join(ways)))
    report(f"fit of the textbook model, {what}, ms, median of {args.rounds}", rows)


if __name__ == "__main__":
    main()
