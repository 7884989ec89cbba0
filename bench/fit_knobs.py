"""Do `steps_per_execution`, a larger batch or fewer validations make a trial's model sooner?

Issue #16 asks whether these knobs move the time to a good model on small data, where fixed
costs dominate. Each round trains the textbook model (what every default study tries first)
and three models drawn from the dense space, through the trial's own `train_model` (per-epoch
eager validation with the study's metric), one way after another, interleaved:

- `today`: as a trial trains now (since this measure, objectives/_train.py's
  STEPS_PER_EXECUTION steps per call where the step is traced);
- `spe=1` (before), `spe=4`, `spe=16` (and any `spe=N` given to --ways): Keras runs that many
  training steps per call of its traced step, on any backend (`KERAS_BACKEND=jax` measures
  JAX's);
- `batch x2`: the drawn batch size doubled (fewer, larger steps: a different model);
- `validation`: the seconds spent in the per-epoch validation itself, out of `today`'s fit,
  the most that validating every other epoch could save.

Prints, per dataset, the median fit time of each way against `today` and the mean final
validation score. iris is not among bench/compare.py's datasets: a default changed for the
others must hold there too.

    .venv/bin/python bench/fit_knobs.py [--rounds 3] [--datasets digits breast_cancer iris]
        [--ways today spe=16 spe=64]
"""

from __future__ import annotations

import argparse
import gc
import time
from collections import defaultdict
from typing import Any

from _common import configurations, load_tune, median, report

WAYS = ("today", "spe=1", "spe=4", "spe=16", "batch x2")
DATASETS = ("digits", "breast_cancer", "iris")
DRAWN = 3  # models drawn from the space per round, besides the textbook one


def fit_once(
    data: Any, metric: Any, params: dict[str, Any], way: str, seed: int
) -> tuple[float, float, float]:
    """(seconds of the fit, seconds of its validation, final validation score)."""
    from objectives import _train, build_model, fresh_session, train_model
    from objectives._validation import EpochValidation

    fresh_session(seed)
    if way == "batch x2":
        params = {**params, "batch_size": 2 * params["batch_size"]}
    model = build_model(params, data.problem, metric)
    policy = _train.steps_per_execution
    if way.startswith("spe="):  # on any backend, where the step is traced
        steps = int(way.removeprefix("spe="))
        policy = lambda eager: 1 if eager else steps  # noqa: E731
    spent = [0.0]
    original = EpochValidation.on_epoch_end

    def timed(self: EpochValidation, epoch: int, logs: dict[str, Any] | None = None) -> None:
        started = time.perf_counter()
        original(self, epoch, logs)
        spent[0] += time.perf_counter() - started

    EpochValidation.on_epoch_end = timed  # type: ignore[method-assign]
    default, _train.steps_per_execution = _train.steps_per_execution, policy
    try:
        started = time.perf_counter()
        history = train_model(model, data.splits, params, metric=metric, task=data.problem.task)
        fit = time.perf_counter() - started
    finally:
        EpochValidation.on_epoch_end = original  # type: ignore[method-assign]
        _train.steps_per_execution = default
    del model
    gc.collect()
    return fit, spent[0], history.history[f"val_{metric.name}"][-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--ways", nargs="+", default=list(WAYS), help="today comes first")
    args = parser.parse_args()
    ways = ["today", *(w for w in args.ways if w != "today")]
    load_tune()
    from objectives import get_metric, prepare

    for name in args.datasets:
        data = prepare(name)
        metric = get_metric(None, data.problem.task)  # the study's default
        chosen = configurations(data.problem, DRAWN)
        fits: defaultdict[str, list[float]] = defaultdict(list)
        scores: defaultdict[str, list[float]] = defaultdict(list)
        validation: list[float] = []
        for seed in range(-1, args.rounds):  # round -1 warms the kernel caches, unrecorded
            for index, params in enumerate(chosen):
                for way in ways:
                    fit, checked, score = fit_once(data, metric, params, way, seed)
                    if seed >= 0:
                        fits[f"{way}/{index}"].append(fit)
                        scores[way].append(score)
                        if way == "today":
                            validation.append(checked / fit)
        rows: list[tuple[str, Any]] = []
        for way in ways:
            ratios = [
                median(fits[f"{way}/{i}"]) / median(fits[f"today/{i}"]) for i in range(len(chosen))
            ]
            total = sum(median(fits[f"{way}/{i}"]) for i in range(len(chosen)))
            rows.append(
                (
                    f"{way}: fit time / today's (median per model)",
                    ", ".join(f"{r:.2f}" for r in ratios),
                )
            )
            rows.append((f"  {len(chosen)} fits in all (s)", total))
            rows.append(
                (f"  mean final validation {metric.name}", sum(scores[way]) / len(scores[way]))
            )
        rows.append(("validation's share of today's fit (median)", median(validation)))
        report(f"{name}: the textbook model and {DRAWN} drawn, median of {args.rounds}", rows)


if __name__ == "__main__":
    main()
