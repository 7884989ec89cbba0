"""Task inference from the target, and the target's encoding for each task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from spaces import TASKS, ConfigError, DataError, check_choice

# An integer-valued numeric target with at most this many distinct values is read as classes.
MAX_CLASSES_FOR_INTEGERS = 20


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
    if len(columns) > 1 or forced == "multilabel":
        return _multilabel(target, columns), f"{len(columns)} target columns of 0/1 -> multilabel"
    column = target[columns[0]]
    if forced == "regression":
        _numeric(column)
        return TargetEncoding("regression", columns), "--task regression was given"
    classes = _classes(column)
    task, reason = forced or _guess(column, classes), "--task was given"
    if forced is None:
        reason = _reason(columns[0], column, classes, task)
    if task == "regression":
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
        integral = bool(np.all(np.mod(column.to_numpy(dtype=np.float64), 1) == 0))
        if not integral or len(classes) > MAX_CLASSES_FOR_INTEGERS:
            return "regression"
    return "binary" if len(classes) <= 2 else "multiclass"


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
    return column.to_numpy(dtype=np.float64)


def _codes(column: pd.Series, classes: tuple[Any, ...]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[v.item() if isinstance(v, np.generic) else v] for v in column])
