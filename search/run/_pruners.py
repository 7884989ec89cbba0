"""The pruners `--pruner` offers. Pruning reads the objective metric each epoch."""

from __future__ import annotations

from collections.abc import Callable

import optuna

from spaces import check_choice

PRUNERS: dict[str, Callable[[], optuna.pruners.BasePruner]] = {
    # A few warm-up trials and epochs keep the median from judging on noise.
    "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=3),
    "hyperband": lambda: optuna.pruners.HyperbandPruner(min_resource=1),
    "halving": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1),
    "none": lambda: optuna.pruners.NopPruner(),
}


def make_pruner(name: str) -> optuna.pruners.BasePruner:
    """A pruner by name; an unknown name fails with the list of valid ones."""
    check_choice("pruner", name, PRUNERS)
    return PRUNERS[name]()
