"""The pruners `--pruner` offers. Pruning reads the objective metric each epoch."""

from __future__ import annotations

from collections.abc import Callable

import optuna

from spaces import check_choice

# Steps the median pruner waits for before it judges a trial: epochs, by default.
WARMUP_STEPS = 3

PRUNERS: dict[str, Callable[[int], optuna.pruners.BasePruner]] = {
    # A few warm-up trials and steps keep the median from judging on noise.
    "median": lambda warmup: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=warmup),
    "hyperband": lambda warmup: optuna.pruners.HyperbandPruner(min_resource=1),
    "halving": lambda warmup: optuna.pruners.SuccessiveHalvingPruner(min_resource=1),
    "none": lambda warmup: optuna.pruners.NopPruner(),
}


def make_pruner(name: str, warmup_steps: int | None = None) -> optuna.pruners.BasePruner:
    """A pruner by name; an unknown name fails with the list of valid ones.

    Args:
        warmup_steps: Steps before the median pruner judges; WARMUP_STEPS by default.
    """
    check_choice("pruner", name, PRUNERS)
    return PRUNERS[name](WARMUP_STEPS if warmup_steps is None else warmup_steps)
