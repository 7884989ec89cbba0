"""The ranges and choice lists a space searches, with their defaults and one validator.

Shared ranges sit in `[space]`; each family's own in its table: `[space.cnn]`, `[space.rnn]`,
`[space.augment]` and `[space.transfer]`. Every value, in whichever table, is checked by the
same validator, with the one message form "KEY must be ..., but got KEY=...".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
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
CELLS = ("lstm", "gru", "simple_rnn")
# The epoch range of the dense and cnn families; the rnn family's is shorter (spaces/_rnn.py).
DEFAULT_EPOCHS = (5, 30)
# Which epoch's weights a validated training keeps: the best on validation (as Keras's
# EarlyStopping with restore_best_weights, told never to stop), or the last.
KEEP_EPOCHS = ("best", "last")
ALL_LOSSES = tuple(sorted({loss for losses in LOSSES_BY_TASK.values() for loss in losses}))

# (lowest allowed, highest allowed) for each numeric range a config may set, by its full name.
_RANGE_BOUNDS: dict[str, tuple[float, float]] = {
    "n_layers": (0, 16),
    "units": (UNITS_MIN, UNITS_MAX),
    "learning_rate": (1e-7, 10.0),
    "epochs": (1, 10_000),
    "dropout": (0.0, 0.9),
    "cnn.conv_layers": (1, 6),
    "cnn.filters": (1, 1024),
    "rnn.layers": (1, 4),
    "rnn.units": (1, UNITS_MAX),
    "rnn.dropout": (0.0, 0.9),
    "rnn.recurrent_dropout": (0.0, 0.9),
    "augment.rotation": (0.0, 0.5),
    "augment.zoom": (0.0, 0.9),
    "augment.translation": (0.0, 0.9),
    "augment.contrast": (0.0, 1.0),
    "transfer.unfreeze": (0, 1000),
    "transfer.fine_tune_learning_rate": (1e-8, 1.0),
}
_WHOLE = frozenset(
    {"n_layers", "epochs", "units", "cnn.conv_layers", "cnn.filters", "rnn.layers", "rnn.units"}
    | {"transfer.unfreeze"}
)
_POWERS_OF_TWO = ("units", "cnn.filters", "rnn.units")
_CHOICES: dict[str, tuple[Any, ...]] = {
    "initializers": INITIALIZERS,
    "activations": ACTIVATIONS,
    "optimizers": OPTIMIZERS,
    "losses": ALL_LOSSES,
    "batch_sizes": tuple(2**k for k in range(0, 14)),
    "cnn.kernel_sizes": (1, 3, 5, 7),
    "rnn.cells": CELLS,
    "rnn.bidirectional": (False, True),
}
_FLAGS = ("augment.enabled", "augment.horizontal_flip", "augment.vertical_flip")


@dataclass(frozen=True)
class CnnConfig:
    """`[space.cnn]`: the convolution blocks (each a Conv2D and a 2x2 max-pooling)."""

    conv_layers: tuple[int, int] = (1, 3)
    filters: tuple[int, int] = (8, 64)
    kernel_sizes: tuple[int, ...] = (3, 5)


@dataclass(frozen=True)
class RnnConfig:
    """`[space.rnn]`: the recurrent layers. `units` of None: the power-of-two rule on F."""

    layers: tuple[int, int] = (1, 2)
    units: tuple[int, int] | None = None
    cells: tuple[str, ...] = CELLS
    bidirectional: tuple[bool, ...] = (False, True)
    dropout: tuple[float, float] = (0.0, 0.3)
    recurrent_dropout: tuple[float, float] = (0.0, 0.3)


@dataclass(frozen=True)
class AugmentConfig:
    """`[space.augment]`: the image augmentations offered, and their magnitudes' ranges.

    A vertical flip turns a 6 into a 9 and a sky into a floor, so it is off by default; a
    horizontal flip keeps most labels, but not a digit's or a letter's.
    """

    enabled: bool = True
    horizontal_flip: bool = True
    vertical_flip: bool = False
    rotation: tuple[float, float] = (0.02, 0.1)  # a fraction of a full turn
    zoom: tuple[float, float] = (0.05, 0.2)
    translation: tuple[float, float] = (0.05, 0.2)  # a fraction of the height and width
    contrast: tuple[float, float] = (0.05, 0.3)


@dataclass(frozen=True)
class TransferConfig:
    """`[space.transfer]`: how many of a base model's top layers are unfrozen to fine-tune,
    and the (lower) learning rate they are fine-tuned with."""

    unfreeze: tuple[int, int] = (0, 2)
    fine_tune_learning_rate: tuple[float, float] = (1e-5, 1e-3)


# A family's table, by name: each holds one dataclass of the config.
TABLES: dict[str, type] = {
    "cnn": CnnConfig,
    "rnn": RnnConfig,
    "augment": AugmentConfig,
    "transfer": TransferConfig,
}
# Keys that moved from `[space]` into a family's table; the old place is still read.
MOVED = {"conv_layers": "cnn", "filters": "cnn", "kernel_sizes": "cnn"}


@dataclass(frozen=True)
class SpaceConfig:
    """Every range and choice list of the search, each overridable from the `[space]` tables.

    `units` of None means "derive from the power-of-two rule"; `losses` of None means
    "every loss valid for the task"; `epochs` of None means "the family's own range", which
    `epoch_range` gives, capped at `max_epochs`.
    """

    n_layers: tuple[int, int] = (0, 3)
    units: tuple[int, int] | None = None
    initializers: tuple[str, ...] = INITIALIZERS
    learning_rate: tuple[float, float] = (1e-4, 1e-1)
    epochs: tuple[int, int] | None = None
    batch_sizes: tuple[int, ...] = (16, 32, 64, 128)
    activations: tuple[str, ...] = ACTIVATIONS
    optimizers: tuple[str, ...] = OPTIMIZERS
    dropout: tuple[float, float] = (0.0, 0.5)
    losses: tuple[str, ...] | None = None
    cnn: CnnConfig = field(default_factory=CnnConfig)
    rnn: RnnConfig = field(default_factory=RnnConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    transfer: TransferConfig = field(default_factory=TransferConfig)
    max_epochs: int | None = None
    # Which family tables the file set, and notes for the user (keys read from old places).
    tables: frozenset[str] = field(default=frozenset(), compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any]) -> SpaceConfig:
        """Build a config from a TOML `[space]` table and its family tables, rejecting
        unknown keys and bad values."""
        shared = {f.name for f in fields(cls)} - set(TABLES) - {"tables", "notes", "max_epochs"}
        unknown = sorted(set(table) - shared - set(TABLES) - set(MOVED))
        if unknown:
            raise ConfigError(
                f"unknown key(s) in [space]: {', '.join(unknown)}. "
                f"Valid keys are: {', '.join(sorted(shared | set(TABLES)))}."
            )
        families, notes = _family_tables(table)
        values: dict[str, Any] = {k: _check_value(k, v) for k, v in table.items() if k in shared}
        for name, given in families.items():
            values[name] = _family_config(name, given)
        return cls(**values, tables=frozenset(families), notes=tuple(notes))

    def to_record(self) -> dict[str, Any]:
        """Every range and choice as plain JSON values: what a study records of its space."""
        record = asdict(self)
        for name in ("tables", "notes"):
            record.pop(name)
        return dict(json.loads(json.dumps(record)))

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> SpaceConfig:
        """The config `to_record` recorded, checked by the same validator as a file's."""
        given = _without_nones(record)
        max_epochs = given.pop("max_epochs", None)
        config = cls.from_mapping(given)
        return replace(config, tables=frozenset(), max_epochs=max_epochs)

    def with_max_epochs(self, max_epochs: int) -> SpaceConfig:
        """Cap the epoch range at `max_epochs`, keeping the range valid."""
        if max_epochs < 1:
            raise ConfigError(f"--max-epochs must be at least 1, but got max-epochs={max_epochs}.")
        if self.epochs is None:  # the family's range, capped when a family asks for it
            return replace(self, max_epochs=max_epochs)
        low, high = self.epochs
        return replace(self, epochs=(min(low, max_epochs), min(high, max_epochs)))

    def epoch_range(self, family_default: tuple[int, int] = DEFAULT_EPOCHS) -> tuple[int, int]:
        """The epochs searched: the configured range, else the family's, capped at max_epochs."""
        low, high = self.epochs or family_default
        cap = self.max_epochs or high
        return min(low, cap), min(high, cap)


def _family_tables(table: Mapping[str, Any]) -> tuple[dict[str, dict[str, Any]], list[str]]:
    families: dict[str, dict[str, Any]] = {}
    for name in TABLES:
        if name in table:
            if not isinstance(table[name], Mapping):
                raise ConfigError(
                    f"{name} must be a table [space.{name}], but got {name}={table[name]!r}."
                )
            families[name] = dict(table[name])
    notes = []
    for key, name in MOVED.items():
        if key in table:
            if key in families.get(name, {}):
                raise ConfigError(
                    f"{key} is set in both [space] and [space.{name}]; keep the one in "
                    f"[space.{name}]."
                )
            families.setdefault(name, {})[key] = table[key]
            notes.append(f"[space] {key} now belongs in [space.{name}]; it was read from [space]")
    return families, notes


def _family_config(name: str, given: Mapping[str, Any]) -> Any:
    kind = TABLES[name]
    known = {f.name for f in fields(kind)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [space.{name}]: {', '.join(unknown)}. "
            f"Valid keys are: {', '.join(sorted(known))}."
        )
    return kind(**{key: _check_value(f"{name}.{key}", value) for key, value in given.items()})


def _check_value(key: str, value: Any) -> Any:
    if key in _RANGE_BOUNDS:
        return _check_range(key, value)
    if key in _FLAGS:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, but got {key}={value!r}.")
        return value
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
    if key in _POWERS_OF_TWO and not all(math.log2(v).is_integer() for v in value):
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


def _without_nones(record: Mapping[str, Any]) -> dict[str, Any]:
    # None means "derived" (units from the power-of-two rule, losses from the task).
    return {
        key: _without_nones(value) if isinstance(value, Mapping) else value
        for key, value in record.items()
        if value is not None
    }


def record_difference(was: Mapping[str, Any], now: Mapping[str, Any]) -> str | None:
    """The first range or choice that differs between two records, as 'KEY=WAS, not NOW'."""
    for key in sorted(set(was) | set(now)):
        old, new = was.get(key), now.get(key)
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            inner = record_difference(old, new)
            if inner is not None:
                return f"{key}.{inner}"
        elif old != new:
            return f"{key}={old!r}, not {new!r}"
    return None
