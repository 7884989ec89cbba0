"""Imputation, scaling and one-hot encoding, fitted on the training split and kept as JSON.

The fitted state is plain JSON so that an exported model carries its preprocessing without
pickles: loading an export never runs code that came with it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from objectives._sequences import sequence_shape
from spaces import DataError

# Beyond this many distinct values a text column keeps only its most frequent categories;
# the rest encode as all zeros, like a category never seen in training.
MAX_CATEGORIES = 32
# Standardised values are clipped here, so one wild outlier outside the training range
# cannot overflow float32 and turn every trial's loss into NaN.
MAX_STANDARD_SCORE = 1e6


@dataclass(frozen=True)
class NumericColumn:
    """A numeric input: missing or infinite values take the training median, then standardised."""

    name: str
    fill: float
    mean: float
    scale: float


@dataclass(frozen=True)
class CategoricalColumn:
    """A text or boolean input: missing values take the training mode, then it is one-hot."""

    name: str
    fill: str
    categories: tuple[str, ...]


@dataclass(frozen=True)
class Preprocessor:
    """The fitted preprocessing of the feature columns, in the training file's column order."""

    numeric: tuple[NumericColumn, ...]
    categorical: tuple[CategoricalColumn, ...]

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> Preprocessor:
        """Fit on the training split's feature columns.

        Sequences are standardised per feature: every step of a feature shares one mean and
        scale, so the steps keep their order of magnitude relative to each other.
        """
        shape = sequence_shape([str(c) for c in frame.columns])
        if shape is not None:
            return cls(numeric=_fit_sequence(frame, shape[1]), categorical=())
        numeric, categorical = [], []
        for name in frame.columns:
            column = frame[name]
            if _is_numeric(column):
                numeric.append(_fit_numeric(str(name), column.astype("float64")))
            else:
                categorical.append(_fit_categorical(str(name), column))
        return cls(numeric=tuple(numeric), categorical=tuple(categorical))

    @property
    def columns(self) -> list[str]:
        """The raw feature columns this preprocessor expects."""
        return [c.name for c in self.numeric] + [c.name for c in self.categorical]

    @property
    def width(self) -> int:
        """Number of model inputs produced per row."""
        return len(self.numeric) + sum(len(c.categories) for c in self.categorical)

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Turn raw rows into the float32 matrix the model reads."""
        parts = [_numeric_block(self.numeric, frame)]
        parts += [_one_hot(c, frame[c.name]) for c in self.categorical]
        return np.concatenate(parts, axis=1).astype(np.float32)

    def schema(self) -> dict[str, str]:
        """Column name -> 'numeric' or 'categorical', for an export's input schema."""
        kinds = {c.name: "numeric" for c in self.numeric}
        kinds.update({c.name: "categorical" for c in self.categorical})
        return kinds

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessor:
        """Rebuild from `to_dict` output."""
        return cls(
            numeric=tuple(NumericColumn(**c) for c in data["numeric"]),
            categorical=tuple(
                CategoricalColumn(c["name"], c["fill"], tuple(c["categories"]))
                for c in data["categorical"]
            ),
        )


def _is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _fit_numeric(name: str, column: pd.Series) -> NumericColumn:
    column = column.where(np.isfinite(column))
    if column.notna().sum() == 0:
        return NumericColumn(name=name, fill=0.0, mean=0.0, scale=1.0)
    fill = float(column.median())
    filled = column.fillna(fill)
    with np.errstate(over="ignore", invalid="ignore"):
        mean, scale = float(filled.mean()), float(filled.std(ddof=0))
    if not (math.isfinite(mean) and math.isfinite(scale)):
        raise DataError(
            f"column '{name}' holds values too large to standardise (up to "
            f"{filled.abs().max():.3g}); rescale that column."
        )
    return NumericColumn(name=name, fill=fill, mean=mean, scale=scale or 1.0)


def _fit_sequence(frame: pd.DataFrame, features: int) -> tuple[NumericColumn, ...]:
    values = frame.to_numpy(dtype=np.float64).reshape(len(frame), -1, features)
    stats = [
        _fit_numeric(f"feature {f}", pd.Series(values[:, :, f].ravel())) for f in range(features)
    ]
    # Columns are step-major: column i holds feature i % features.
    return tuple(
        replace(stats[i % features], name=str(name)) for i, name in enumerate(frame.columns)
    )


def _fit_categorical(name: str, column: pd.Series) -> CategoricalColumn:
    text = column.dropna().astype(str)
    counts = text.value_counts()
    fill = str(counts.index[0]) if len(counts) else ""
    kept = sorted(str(v) for v in counts.index[:MAX_CATEGORIES])
    return CategoricalColumn(name=name, fill=fill, categories=tuple(kept or [fill]))


def _numeric_block(columns: tuple[NumericColumn, ...], frame: pd.DataFrame) -> np.ndarray:
    if not columns:
        return np.zeros((len(frame), 0), dtype=np.float64)
    block = np.column_stack([_as_float(frame[c.name], c.name) for c in columns])
    fill = np.array([c.fill for c in columns])
    mean = np.array([c.mean for c in columns])
    scale = np.array([c.scale for c in columns])
    block = np.where(np.isfinite(block), block, fill)
    with np.errstate(over="ignore", invalid="ignore"):
        scores = (block - mean) / scale
    return np.clip(scores, -MAX_STANDARD_SCORE, MAX_STANDARD_SCORE)


def _as_float(column: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
        converted = pd.to_numeric(column, errors="coerce")
        bad = converted.isna() & column.notna()
        if bad.any():
            example = column[bad].iloc[0]
            raise DataError(
                f"column '{name}' must be numeric, but holds {example!r}; "
                "fix that value or drop the row."
            )
        column = converted
    return column.to_numpy(dtype=np.float64, na_value=np.nan)


def _one_hot(column_spec: CategoricalColumn, column: pd.Series) -> np.ndarray:
    text = column.astype(object).where(column.notna(), column_spec.fill).astype(str)
    index = {category: i for i, category in enumerate(column_spec.categories)}
    codes = text.map(index).to_numpy(dtype=np.float64, na_value=np.nan)
    block = np.zeros((len(column), len(column_spec.categories)))
    known = ~np.isnan(codes)
    block[np.nonzero(known)[0], codes[known].astype(int)] = 1.0
    return block
