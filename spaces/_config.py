"""The ranges and choice lists a space searches, with their defaults and one validator."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from spaces._errors import ConfigError
from spaces._rules import LOSSES_BY_TASK, UNITS_MAX, UNITS_MIN

INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
)
ACTIVATIONS = ("relu", "tanh", "elu", "selu", "gelu", "silu", "sigmoid")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam")
ALL_LOSSES = tuple(sorted({loss for losses in LOSSES_BY_TASK.values() for loss in losses}))

# (lowest allowed, highest allowed) for each numeric range a config may set.
_RANGE_BOUNDS: dict[str, tuple[float, float]] = {
    "n_layers": (1, 16),
    "units": (UNITS_MIN, UNITS_MAX),
    "learning_rate": (1e-7, 10.0),
    "epochs": (1, 10_000),
    "dropout": (0.0, 0.9),
    "conv_layers": (1, 6),
    "filters": (1, 1024),
}
_WHOLE = ("n_layers", "epochs", "units", "conv_layers", "filters")
_CHOICES: dict[str, tuple[Any, ...]] = {
    "initializers": INITIALIZERS,
    "activations": ACTIVATIONS,
    "optimizers": OPTIMIZERS,
    "losses": ALL_LOSSES,
    "batch_sizes": tuple(2**k for k in range(0, 14)),
    "kernel_sizes": (1, 3, 5, 7),
}


@dataclass(frozen=True)
class SpaceConfig:
    """Every range and choice list of the search, each overridable from the `[space]` table.

    `units` of None means "derive from the power-of-two rule"; `losses` of None means
    "every loss valid for the task".
    """

    n_layers: tuple[int, int] = (1, 3)
    units: tuple[int, int] | None = None
    initializers: tuple[str, ...] = INITIALIZERS
    learning_rate: tuple[float, float] = (1e-4, 1e-1)
    epochs: tuple[int, int] = (5, 30)
    batch_sizes: tuple[int, ...] = (16, 32, 64, 128)
    activations: tuple[str, ...] = ACTIVATIONS
    optimizers: tuple[str, ...] = OPTIMIZERS
    dropout: tuple[float, float] = (0.0, 0.5)
    losses: tuple[str, ...] | None = None
    # The cnn family's convolution blocks (each a Conv2D and a 2x2 max-pooling).
    conv_layers: tuple[int, int] = (1, 3)
    filters: tuple[int, int] = (8, 64)
    kernel_sizes: tuple[int, ...] = (3, 5)

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> SpaceConfig:
        """Build a config from a TOML `[space]` table, rejecting unknown keys and bad values."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(table) - known)
        if unknown:
            raise ConfigError(
                f"unknown key(s) in [space]: {', '.join(unknown)}. "
                f"Valid keys are: {', '.join(sorted(known))}."
            )
        values = {key: _check_value(key, value) for key, value in table.items()}
        return cls(**values)

    def with_max_epochs(self, max_epochs: int) -> SpaceConfig:
        """Cap the epoch range at `max_epochs`, keeping the range valid."""
        if max_epochs < 1:
            raise ConfigError(f"--max-epochs must be at least 1, but got max-epochs={max_epochs}.")
        low, high = self.epochs
        return replace(self, epochs=(min(low, max_epochs), min(high, max_epochs)))


def _check_value(key: str, value: Any) -> Any:
    if key in _RANGE_BOUNDS:
        return _check_range(key, value)
    return _check_choices(key, value)


def _check_range(key: str, value: Any) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(_is_number(v) for v in value)
    ):
        raise ConfigError(f"{key} must be a [low, high] pair of numbers, but got {key}={value!r}.")
    low, high = value
    lowest, highest = _RANGE_BOUNDS[key]
    if low > high:
        raise ConfigError(f"{key} must have low <= high, but got {key}={list(value)}; swap them.")
    if low < lowest or high > highest:
        raise ConfigError(
            f"{key} must lie within [{lowest}, {highest}], but got {key}={list(value)}."
        )
    if key in _WHOLE and not all(float(v).is_integer() for v in value):
        raise ConfigError(f"{key} must be whole numbers, but got {key}={list(value)}.")
    if key in ("units", "filters") and not all(math.log2(v).is_integer() for v in value):
        raise ConfigError(f"{key} must be powers of two, but got {key}={list(value)}.")
    if key in _WHOLE:
        return int(low), int(high)
    return float(low), float(high)


def _check_choices(key: str, value: Any) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError(f"{key} must be a non-empty list, but got {key}={value!r}.")
    valid = _CHOICES[key]
    # `32.0 in (32,)` holds, but Keras refuses a float batch size, so types must match too.
    bad = [v for v in value if v not in valid or type(v) is not type(valid[0])]
    if bad:
        raise ConfigError(
            f"{key} has invalid value(s) {bad}. Use values from: {', '.join(map(str, valid))}."
        )
    return tuple(dict.fromkeys(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
