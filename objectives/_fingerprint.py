"""What a study was trained on: a digest of the whole data, its source, size and columns.

MLflow's own pandas digest reads only the first 10,000 rows, so a change further down a
file would go unseen; this one covers every row and column, whatever the format the data
came in (the same rows from a CSV file or a Parquet file give the same digest).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

DIGEST_LENGTH = 32  # hex characters: 128 bits; MLflow stores up to 36


@dataclass(frozen=True)
class DataFingerprint:
    """The identity of a dataset: its name, where it came from, a digest and its columns."""

    name: str
    source: str
    builtin: bool
    digest: str
    rows: int
    columns: tuple[tuple[str, str], ...]  # (name, kind): kind is double, long, boolean or string


def fingerprint(frame: pd.DataFrame, source: str, builtin: bool) -> DataFingerprint:
    """Fingerprint the loaded data (every row, target included).

    Args:
        frame: The data as loaded, before any row is dropped or split.
        source: A built-in dataset's name, or the path it was read from.
        builtin: Whether `source` names a built-in dataset.
    """
    path = Path(source)
    return DataFingerprint(
        name=source if builtin else (path.name or str(path)),
        source=source if builtin else str(path.resolve()),
        builtin=builtin,
        digest=data_digest(frame),
        rows=len(frame),
        columns=tuple((str(name), column_kind(frame[name])) for name in frame.columns),
    )


def data_digest(frame: pd.DataFrame) -> str:
    """A digest of every value, the column names and their kinds."""
    hasher = hashlib.sha256()
    hasher.update(repr([(str(c), str(frame[c].dtype)) for c in frame.columns]).encode())
    numeric = [c for c in frame.columns if _is_plain_number(frame[c])]
    if numeric:
        # One block for all numeric columns: an image folder has thousands of pixel columns.
        block = frame[numeric].to_numpy(dtype=np.float64, na_value=np.nan)
        hasher.update(np.ascontiguousarray(block).tobytes())
    numeric_names = set(numeric)
    for name in frame.columns:
        if name not in numeric_names:
            hashed = pd.util.hash_pandas_object(frame[name], index=False)
            hasher.update(hashed.to_numpy().tobytes())
    return hasher.hexdigest()[:DIGEST_LENGTH]


def column_kind(column: pd.Series) -> str:
    """How a column's values are typed for a schema: double, long, boolean or string."""
    if pd.api.types.is_bool_dtype(column):
        return "boolean"
    if pd.api.types.is_integer_dtype(column):
        return "long"
    if pd.api.types.is_float_dtype(column):
        return "double"
    return "string"


def _is_plain_number(column: pd.Series) -> bool:
    return bool(
        pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
    ) and not isinstance(column.dtype, pd.CategoricalDtype)
