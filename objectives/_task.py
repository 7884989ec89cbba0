"""Task inference from the target, and the target's encoding for each task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spaces import TASKS, ConfigError, DataError, check_choice

# An integer-valued numeric target with at most this many distinct values is read as classes.
MAX_CLASSES_FOR_INTEGERS = 20
FLOAT32_MAX = float(np.finfo(np.float32).max)
# A text target whose values are at least this share numbers is a numeric one with typos.
STRAY_TEXT_SHARE = 0.9


@dataclass(frozen=True)
class TargetEncoding:
    """How target values map to model outputs, and back to the original labels."""

    task: str
    columns: tuple[str, ...]
    classes: tuple[Any, ...] = ()

    @property
    def n_outputs(self) -> int:
        """Width of the output layer."""
        if self.task == "multiclass":
            return len(self.classes)
        return len(self.columns)

    def encode(self, target: pd.DataFrame) -> np.ndarray:
        """Target values -> float32 matrix (one-hot for multiclass, 0/1 for binary)."""
        if self.task == "regression":
            return _numeric(target[self.columns[0]]).reshape(-1, 1).astype(np.float32)
        if self.task == "multilabel":
            return target[list(self.columns)].to_numpy(dtype=np.float32)
        codes = _codes(target[self.columns[0]], self.classes)
        if self.task == "binary":
            return codes.reshape(-1, 1).astype(np.float32)
        return np.eye(len(self.classes), dtype=np.float32)[codes]

    def decode(self, outputs: np.ndarray) -> list[Any]:
        """Model outputs -> original labels (classification) or numbers (regression)."""
        if self.task == "regression":
            return [float(v) for v in outputs[:, 0]]
        if self.task == "binary":
            return [self.classes[int(p >= 0.5)] for p in outputs[:, 0]]
        if self.task == "multiclass":
            return [self.classes[int(i)] for i in outputs.argmax(axis=1)]
        return [
            ",".join(c for c, p in zip(self.columns, row, strict=True) if p >= 0.5)
            for row in outputs
        ]


def infer_task(target: pd.DataFrame, forced: str | None = None) -> tuple[TargetEncoding, str]:
    """Work out the task from the target columns; `forced` (from --task) overrides it.

    Returns:
        The encoding and a sentence saying why this task was chosen.
    """
    if forced is not None:
        check_choice("task", forced, TASKS)
    columns = tuple(str(c) for c in target.columns)
    if len(columns) > 1 and forced not in (None, "multilabel"):
        raise ConfigError(
            f"--task {forced} needs one target column, but got {len(columns)} "
            f"({', '.join(columns)}); drop --task or give one --target."
        )
    if len(columns) > 1 or forced == "multilabel":
        reason = "--task multilabel was given" if forced else f"{len(columns)} 0/1 target columns"
        return _multilabel(target, columns), f"{reason} -> multilabel"
    column = target[columns[0]]
    if forced == "regression":
        _numeric(column)
        return TargetEncoding("regression", columns), "--task regression was given"
    classes = _classes(column)
    task = forced or _guess(column, classes)
    reason = f"--task {forced} was given" if forced else _reason(columns[0], column, classes, task)
    if task == "regression":
        _numeric(column)
        return TargetEncoding("regression", columns), reason
    if len(classes) < 2:
        raise DataError(
            f"target '{columns[0]}' has a single class ({classes[0]!r}); "
            "classification needs at least two. Check the --target column."
        )
    if task == "binary" and len(classes) != 2:
        raise ConfigError(f"--task binary needs 2 classes, but target has {len(classes)}.")
    return TargetEncoding(task, columns, classes), reason


def _guess(column: pd.Series, classes: tuple[Any, ...]) -> str:
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        with np.errstate(invalid="ignore"):  # inf has no remainder; it is not integral
            integral = bool(np.all(np.mod(column.to_numpy(dtype=np.float64), 1) == 0))
        if not integral or len(classes) > MAX_CLASSES_FOR_INTEGERS:
            return "regression"
    elif len(classes) > MAX_CLASSES_FOR_INTEGERS:
        _refuse_stray_text(column)
    return "binary" if len(classes) <= 2 else "multiclass"


def _refuse_stray_text(column: pd.Series) -> None:
    # A numeric column with a few placeholders ("-", "?") reads as text; taking it for
    # hundreds of classes would fail later with a confusing "class has only 1 row".
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.isna().any() and numbers.notna().mean() >= STRAY_TEXT_SHARE:
        stray = column[numbers.isna()].iloc[0]
        raise DataError(
            f"target '{column.name}' is numeric except for values such as {stray!r}; "
            "fix or drop those rows, or pass --task multiclass if they are classes."
        )


def _reason(name: str, column: pd.Series, classes: tuple[Any, ...], task: str) -> str:
    if task == "regression":
        kind = "non-integer" if column.dtype.kind == "f" else "many distinct"
        return (
            f"target '{name}' has {kind} numeric values ({column.nunique()} distinct) -> regression"
        )
    shown = ", ".join(map(str, classes[:5])) + (", ..." if len(classes) > 5 else "")
    return f"target '{name}' has {len(classes)} distinct values ({shown}) -> {task}"


def _classes(column: pd.Series) -> tuple[Any, ...]:
    values = column.dropna().unique().tolist()
    try:
        values = sorted(values)
    except TypeError:
        values = sorted(values, key=str)
    return tuple(v.item() if isinstance(v, np.generic) else v for v in values)


def _multilabel(target: pd.DataFrame, columns: tuple[str, ...]) -> TargetEncoding:
    for name in columns:
        values = set(pd.unique(target[name].dropna()))
        if not values <= {0, 1}:
            raise DataError(
                f"multi-label target column '{name}' must hold only 0 and 1; "
                "give one 0/1 column per label."
            )
    return TargetEncoding("multilabel", columns)


def _numeric(column: pd.Series) -> np.ndarray:
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise DataError(
            f"target '{column.name}' is not numeric, so it cannot be a regression target; "
            "drop --task regression or choose a numeric --target."
        )
    values = column.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise DataError(
            f"regression target '{column.name}' holds infinite values; fix or drop those rows."
        )
    largest = float(np.abs(values).max(initial=0.0))
    if largest > FLOAT32_MAX:  # the model trains in float32, where such a value is infinite
        raise DataError(
            f"regression target '{column.name}' holds values too large for float32 "
            f"(up to {largest:.3g}); rescale the target."
        )
    return values


def _codes(column: pd.Series, classes: tuple[Any, ...]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v.item() if isinstance(v, np.generic) else v] for v in column])
