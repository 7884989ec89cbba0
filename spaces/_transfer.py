"""Transfer learning: how much of a user's base model is fine-tuned, and how gently.

The base's layers start frozen. A trial that unfreezes its top `unfreeze` layers trains the
head first, then fine-tunes those layers with the lower `fine_tune_learning_rate`.
"""

from __future__ import annotations

from typing import Any

import optuna

from spaces._config import TransferConfig
from spaces._problem import BaseModel


def transfer_space(
    trial: optuna.trial.BaseTrial, base: BaseModel, config: TransferConfig
) -> dict[str, Any]:
    """Sample `unfreeze` (0: none) and, when some layers are unfrozen, their learning rate."""
    low, high = unfreeze_bounds(base, config)
    unfreeze = trial.suggest_int("unfreeze", low, high)
    params: dict[str, Any] = {"unfreeze": unfreeze}
    if unfreeze:
        params["fine_tune_learning_rate"] = trial.suggest_float(
            "fine_tune_learning_rate", *config.fine_tune_learning_rate, log=True
        )
    return params


def transfer_baseline(base: BaseModel, config: TransferConfig) -> dict[str, Any]:
    """The textbook transfer keeps the whole base frozen (or as little unfrozen as allowed)."""
    low, _ = unfreeze_bounds(base, config)
    params: dict[str, Any] = {"unfreeze": low}
    if low:
        params["fine_tune_learning_rate"] = config.fine_tune_learning_rate[0]
    return params


def unfreeze_bounds(base: BaseModel, config: TransferConfig) -> tuple[int, int]:
    """The configured range, cut to the layers the base has."""
    high = min(config.unfreeze[1], base.layers)
    return min(config.unfreeze[0], high), high
