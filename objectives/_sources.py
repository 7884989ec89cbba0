"""Where data comes from: scikit-learn's bundled datasets, CSV and Parquet files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sklearn import datasets

from spaces import ConfigError, DataError


def _bundled(loader: Callable[..., object]) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        return loader(as_frame=True).frame  # type: ignore[attr-defined]

    return load


# scikit-learn ships these copies, so nothing is downloaded; each frame ends with `target`.
BUILTINS: dict[str, Callable[[], pd.DataFrame]] = {
    "breast_cancer": _bundled(datasets.load_breast_cancer),
    "digits": _bundled(datasets.load_digits),
    "wine": _bundled(datasets.load_wine),
    "iris": _bundled(datasets.load_iris),
    "diabetes": _bundled(datasets.load_diabetes),
}

_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": lambda path: pd.read_csv(path),
    ".parquet": lambda path: pd.read_parquet(path),
    ".pq": lambda path: pd.read_parquet(path),
}


def load_frame(source: str) -> pd.DataFrame:
    """Load a built-in dataset by name, or a CSV or Parquet file by path.

    Raises:
        ConfigError: The name is neither a built-in nor a file of a known kind.
        DataError: The file is missing, unreadable or empty.
    """
    if not source.strip():
        raise ConfigError(
            f"data must be a built-in dataset name or a file path, but got data={source!r}."
        )
    if source in BUILTINS:
        return BUILTINS[source]()
    path = Path(source)
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        if not suffix and not path.exists():
            raise ConfigError(
                f"unknown built-in dataset '{source}'. "
                f"Use one of: {', '.join(sorted(BUILTINS))}, or a path to a .csv or .parquet file."
            )
        raise ConfigError(
            f"cannot read '{source}': unsupported file type '{suffix or path.name}'. "
            f"Use a file ending in {', '.join(sorted(_READERS))}."
        )
    if not path.exists():
        raise DataError(f"data file '{source}' does not exist; check the path given to --data.")
    frame = _read(path, suffix)
    if frame.empty:
        raise DataError(f"data file '{source}' has no rows; give a file with a header and data.")
    # A Parquet file may restore an index with repeated labels, which would make the
    # splits select rows by label twice; rows are identified by position from here on.
    return frame.reset_index(drop=True)


def _read(path: Path, suffix: str) -> pd.DataFrame:
    try:
        return _READERS[suffix](path)
    except pd.errors.EmptyDataError as exc:
        raise DataError(
            f"data file '{path}' is empty; give a file with a header and data."
        ) from exc
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(f"cannot read data file '{path}': {reason}. Check its format.") from exc
    except Exception as exc:  # pyarrow raises its own types for corrupt Parquet files
        raise DataError(f"cannot read data file '{path}': {type(exc).__name__}.") from exc
