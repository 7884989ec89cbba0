"""Which Keras backend searches fastest? The same studies on TensorFlow, JAX and PyTorch.

Runs the default study (breast_cancer, 20 trials) and digits (40 trials) on each installed
backend through the CLI, a process per run (Keras reads its backend once, on import),
interleaved: each repeat runs every backend once per study, in a rotated order, with the
repeat's number as the seed. From the stores it reads the median time per trial (Optuna's
creation to end), the median time inside `fit` (the `fit_s` metric every trial's MLflow run
carries), the median time outside it, and the best score; the run's process reports its
peak RSS (ru_maxrss: the process that trains, not the writer process).

The floor: the textbook model of each dataset (what every study enqueues first), trained
by a hand-written loop on each backend (a tf.function step on TensorFlow, a jax.jit step
on JAX, a plain loop with torch.optim on PyTorch) on the same data, batch size and epochs,
with each epoch's validation score, against tune's own `train_model` of the same model
(Keras `fit` as a trial runs it, without the logging and pruning callbacks). Each is a fresh
model, so its tracing is part of its time (the validation's forward pass runs eagerly in
both, as tune's does); one warm-up fit of each comes first, unrecorded.

    .venv/bin/python bench/backends.py [--repeats 3] [--quick]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import optuna
from _common import (
    child_metric,
    finished_trials,
    median,
    private_stores,
    textbook_params,
    trial_seconds,
)

BACKENDS = ("tensorflow", "jax", "torch")
STUDIES = {"breast_cancer": 20, "digits": 40}
QUICK_TRIALS = 3
REPO = Path(__file__).resolve().parents[1]
# `tune ARGS` in this process; then the process's peak RSS, which the writer's is not part of.
TUNE = """
import resource, sys
from search.cli import main
code = main(sys.argv[1:])
print("PEAK_RSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""
STUDY_COLUMNS = ("run (s)", "trial (s)", "in fit (s)", "outside fit (ms)", "peak RSS (MB)",
                 "best score")  # fmt: skip


def _child(code: list[str], backend: str) -> str:
    """A fresh interpreter on `backend`; its standard output. Raises on failure."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           "MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONPATH": str(REPO)}  # fmt: skip
    done = subprocess.run([sys.executable, *code], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{backend}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return done.stdout


def run_study(backend: str, data: str, trials: int, seed: int) -> dict[str, float]:
    """One `tune run` of `data` on `backend` in private stores: the table's figures."""
    with private_stores() as (storage, tracking):
        args = ["run", "--data", data, "--trials", str(trials), "--seed", str(seed),
                "--backend", backend, "--storage", storage, "--tracking-uri", tracking,
                "--quiet", "--no-report"]  # fmt: skip
        started = time.perf_counter()
        out = _child(["-c", TUNE, *args], backend)
        wall = time.perf_counter() - started
        finished = finished_trials(storage, data)
        fits = child_metric(tracking, data, "fit_s")
        best = optuna.load_study(study_name=data, storage=storage).best_value
    totals = [trial_seconds(t) for t in finished]
    inside = [fits.get(t.number, 0.0) for t in finished]
    [peak_kb] = [line.split()[1] for line in out.splitlines() if line.startswith("PEAK_RSS_KB")]
    return dict(zip(STUDY_COLUMNS, (
        wall, median(totals), median(inside),
        1000 * median([t - f for t, f in zip(totals, inside, strict=True)]),
        int(peak_kb) / 1024, best,
    ), strict=True))  # fmt: skip


def run_floor(backend: str, datasets: list[str]) -> dict[str, dict[str, float]]:
    """The floor's fits on `backend`, in a fresh interpreter: seconds, by dataset and way."""
    found: dict[str, dict[str, float]] = json.loads(
        _child([__file__, "--floor", backend, *datasets], backend).splitlines()[-1]
    )
    return found


# The floor, in the child process ---------------------------------------------------------


def textbook(data: str) -> tuple[Any, dict[str, Any], Any]:
    """The prepared data, the textbook model's parameters and the study's metric."""
    from objectives import get_metric, prepare

    prepared = prepare(data)
    params = textbook_params(prepared.problem)
    return prepared, params, get_metric(None, prepared.problem.task)


def batches(x: Any, y: Any, size: int, rng: Any) -> list[tuple[Any, Any]]:
    """One epoch of shuffled batches, as NumPy arrays (the last one smaller)."""
    order = rng.permutation(len(x))
    return [(x[order[i : i + size]], y[order[i : i + size]]) for i in range(0, len(x), size)]


def tensorflow_loop(model: Any, loss: Any, params: dict[str, Any]) -> tuple[Any, Any]:
    """(train step as a tf.function, forward pass)."""
    import keras
    import tensorflow as tf

    optimizer = keras.optimizers.Adam(params["learning_rate"])
    optimizer.build(model.trainable_variables)

    @tf.function
    def step(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            value = loss(y, model(x, training=True))
        optimizer.apply(tape.gradient(value, model.trainable_variables), model.trainable_variables)
        return value

    return step, lambda x: model(x, training=False)


def jax_loop(model: Any, loss: Any, params: dict[str, Any]) -> tuple[Any, Any]:
    """(train step as a jax.jit function, forward pass), over the model's state, kept here."""
    import jax
    import keras

    optimizer = keras.optimizers.Adam(params["learning_rate"])
    optimizer.build(model.trainable_variables)
    state = [[v.value for v in vs] for vs in (model.trainable_variables,
             model.non_trainable_variables, optimizer.variables)]  # fmt: skip

    def compute(trainable: Any, fixed: Any, x: Any, y: Any) -> Any:
        outputs, fixed = model.stateless_call(trainable, fixed, x, training=True)
        return loss(y, outputs), fixed

    gradient = jax.value_and_grad(compute, has_aux=True)

    @jax.jit
    def update(state: Any, x: Any, y: Any) -> Any:
        trainable, fixed, slots = state
        (value, fixed), grads = gradient(trainable, fixed, x, y)
        trainable, slots = optimizer.stateless_apply(slots, grads, trainable)
        return value, [trainable, fixed, slots]

    def step(x: Any, y: Any) -> Any:
        value, state[:] = update(state, x, y)
        return value

    return step, lambda x: model.stateless_call(state[0], state[1], x, training=False)[0]


def torch_loop(model: Any, loss: Any, params: dict[str, Any]) -> tuple[Any, Any]:
    """(train step, forward pass) in plain PyTorch: the Keras model is a torch module."""
    import torch

    optimizer = torch.optim.Adam(model.parameters(), lr=params["learning_rate"])

    def step(x: Any, y: Any) -> Any:
        optimizer.zero_grad()
        value = loss(torch.from_numpy(y), model(torch.from_numpy(x), training=True))
        value.backward()
        optimizer.step()
        return value

    def forward(x: Any) -> Any:
        with torch.no_grad():
            return model(torch.from_numpy(x), training=False)

    return step, forward


LOOPS = {"tensorflow": tensorflow_loop, "jax": jax_loop, "torch": torch_loop}


def hand_fit(backend: str, setup: tuple[Any, dict[str, Any], Any], seed: int) -> float:
    """The textbook model trained by the backend's hand-written loop; seconds."""
    import keras
    import numpy as np

    from objectives import build_model, fresh_session

    prepared, params, metric = setup
    splits, task = prepared.splits, prepared.problem.task
    fresh_session(seed)
    model = build_model(params, prepared.problem)
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    per_row = keras.losses.get(params["loss"])
    step, forward = LOOPS[backend](model, lambda y, p: keras.ops.mean(per_row(y, p)), params)
    for _ in range(params["epochs"]):
        for x, y in batches(splits.x_train, splits.y_train, params["batch_size"], rng):
            step(x, y)
        outputs = keras.ops.convert_to_numpy(forward(splits.x_val))
        metric.score(splits.y_val.astype(np.float64), outputs.astype(np.float64), task)
    return time.perf_counter() - started


def tune_fit(setup: tuple[Any, dict[str, Any], Any], seed: int) -> float:
    """The textbook model trained as a trial trains it (train_model); seconds."""
    from objectives import build_model, fresh_session, train_model

    prepared, params, metric = setup
    fresh_session(seed)
    model = build_model(params, prepared.problem)
    started = time.perf_counter()
    train_model(model, prepared.splits, params, metric=metric, task=prepared.problem.task)
    return time.perf_counter() - started


def floor_child(backend: str, datasets: list[str]) -> None:
    """Print, as JSON, each dataset's tune fit and hand-written fit, after a warm-up of each."""
    from _common import load_tune

    load_tune()
    found: dict[str, dict[str, float]] = {}
    for data in datasets:
        setup = textbook(data)
        for _ in range(2):  # the first is the warm-up: only the second is kept
            found[data] = {"tune fit (s)": tune_fit(setup, 0),
                           "hand loop (s)": hand_fit(backend, setup, 0)}  # fmt: skip
    print(json.dumps(found))


# The parent: studies and floors, interleaved ----------------------------------------------


def measure(backends: list[str], studies: dict[str, int], repeats: int) -> tuple[Any, Any]:
    """Every repeat runs each study and the floor once on every backend, in a rotated order."""
    runs: defaultdict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    floors: defaultdict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    for repeat in range(repeats):
        order = backends[repeat % len(backends) :] + backends[: repeat % len(backends)]
        for data, trials in studies.items():
            for backend in order:
                runs[data, backend].append(run_study(backend, data, trials, repeat))
                print(f"repeat {repeat + 1}: {data} on {backend} done", file=sys.stderr)
        for backend in order:
            for data, fits in run_floor(backend, list(studies)).items():
                floors[data, backend].append(fits)
    return runs, floors


def medians(found: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the repeats."""
    return {key: median([f[key] for f in found]) for key in found[0]}


def print_tables(runs: Any, floors: Any, studies: dict[str, int], repeats: int) -> None:
    """Markdown tables of the studies and of the floor, medians over the repeats."""
    print(f"\nStudies, medians of {repeats} run(s); times per trial are medians over trials.\n")
    print("| study | backend | " + " | ".join(STUDY_COLUMNS) + " |")
    print("| --- | --- |" + " ---: |" * len(STUDY_COLUMNS))
    for (data, backend), found in runs.items():
        shown = " | ".join(f"{v:.4g}" for v in medians(found).values())
        print(f"| {data} ({studies[data]} trials) | {backend} | {shown} |")
    print(f"\nThe textbook model's fit, medians of {repeats}.\n")
    print("| data | backend | tune fit (s) | hand loop (s) | fit / floor |")
    print("| --- | --- | ---: | ---: | ---: |")
    for (data, backend), found in floors.items():
        fit, floor = medians(found).values()
        print(f"| {data} | {backend} | {fit:.3g} | {floor:.3g} | {fit / floor:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_TRIALS} trials, 1 repeat")
    parser.add_argument("--floor", nargs="+", help=argparse.SUPPRESS)  # the child's own mode
    args = parser.parse_args()
    if args.floor:
        floor_child(args.floor[0], args.floor[1:])
        return
    backends = [b for b in BACKENDS if importlib.util.find_spec(b) is not None]
    studies = {d: QUICK_TRIALS for d in STUDIES} if args.quick else dict(STUDIES)
    repeats = 1 if args.quick else args.repeats
    print(f"backends: {', '.join(backends)}", file=sys.stderr)
    runs, floors = measure(backends, studies, repeats)
    print_tables(runs, floors, studies, repeats)


if __name__ == "__main__":
    main()
