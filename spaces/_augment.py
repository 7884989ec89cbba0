"""Image augmentation, searched: each augmentation switched on or off, its magnitude sampled.

The layers act in training only (Keras makes them the identity at inference), so they are
part of the exported model and change nothing at prediction.
"""

from __future__ import annotations

from typing import Any

import optuna

from spaces._config import AugmentConfig

# The augmentations with a magnitude: each has a range in AugmentConfig of the same name.
MAGNITUDES = ("rotation", "zoom", "translation", "contrast")


def augment_space(trial: optuna.trial.BaseTrial, config: AugmentConfig) -> dict[str, Any]:
    """Sample `augment_{name}` (on or off) for each augmentation offered, and with it on,
    `flip_mode` or `{name}_factor`."""
    if not config.enabled:
        return {}
    params: dict[str, Any] = {}
    mode = flip_mode(config)
    if mode is not None:
        params["augment_flip"] = trial.suggest_categorical("augment_flip", [False, True])
        if params["augment_flip"]:
            params["flip_mode"] = mode
    for name in MAGNITUDES:
        on = trial.suggest_categorical(f"augment_{name}", [False, True])
        params[f"augment_{name}"] = on
        if on:
            params[f"{name}_factor"] = trial.suggest_float(f"{name}_factor", *getattr(config, name))
    return params


def augment_baseline(config: AugmentConfig) -> dict[str, Any]:
    """The textbook model trains on the images as they are: every augmentation off."""
    if not config.enabled:
        return {}
    names = (["flip"] if flip_mode(config) else []) + list(MAGNITUDES)
    return {f"augment_{name}": False for name in names}


def flip_mode(config: AugmentConfig) -> str | None:
    """Keras's RandomFlip mode for the flips the config allows, or None for no flip."""
    modes = {
        (True, True): "horizontal_and_vertical",
        (True, False): "horizontal",
        (False, True): "vertical",
    }
    return modes.get((config.horizontal_flip, config.vertical_flip))
