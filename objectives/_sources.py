"""Where data comes from: scikit-learn's bundled datasets, CSV, Parquet and NumPy .npz files,
and folders of images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sklearn import datasets

from objectives._arrays import read_npz
from objectives._images import (
    IMAGE_SUFFIXES,
    Shape,
    read_image_file,
    read_image_folder,
)
from spaces import ConfigError, DataError, first_line


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

# The built-ins that are images kept as rows; `--space cnn` folds their rows back.
BUILTIN_IMAGES: dict[str, Shape] = {"digits": (8, 8, 1)}

_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": lambda path: pd.read_csv(path),
    ".parquet": lambda path: pd.read_parquet(path),
    ".pq": lambda path: pd.read_parquet(path),
}


def load_frame(
    source: str, image_shape: Shape | None = None, layout: str | None = None
) -> pd.DataFrame:
    """Load a built-in dataset by name, a CSV, Parquet or .npz file, or a folder of images.

    Args:
        source: The name or path.
        image_shape: For a folder of images, the height, width and channels to convert
            them to (see objectives/_images.py); by default the most common ones.
        layout: How an .npz file's `x` is read (see objectives/_arrays.py); rows by default.

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
    if path.is_dir():
        try:
            return read_image_folder(path, image_shape)
        except OSError as exc:
            raise DataError(f"cannot read folder '{source}': {exc}.") from exc
    suffix = path.suffix.lower()
    if suffix not in _READERS and suffix not in IMAGE_SUFFIXES and suffix != ".npz":
        if not suffix and not path.exists():
            raise ConfigError(
                f"unknown built-in dataset '{source}'. "
                f"Use one of: {', '.join(sorted(BUILTINS))}, a path to a .csv, .parquet or .npz "
                "file, or a folder of images."
            )
        raise ConfigError(
            f"cannot read '{source}': unsupported file type '{suffix or path.name}'. "
            f"Use a file ending in {', '.join(sorted([*_READERS, '.npz']))}, an image or a "
            "folder of images."
        )
    if not path.exists():
        raise DataError(f"data file '{source}' does not exist; check the path given to --data.")
    if suffix in IMAGE_SUFFIXES:  # one image, to predict
        return read_image_file(path, image_shape)
    frame = _read(path, suffix, layout)
    if frame.empty:
        raise DataError(f"data file '{source}' has no rows; give a file with a header and data.")
    # A Parquet file may restore an index with repeated labels, which would make the
    # splits select rows by label twice; rows are identified by position from here on.
    return frame.reset_index(drop=True)


def _read(path: Path, suffix: str, layout: str | None) -> pd.DataFrame:
    try:
        return read_npz(path, layout) if suffix == ".npz" else _READERS[suffix](path)
    except (DataError, ConfigError):
        raise
    except pd.errors.EmptyDataError as exc:
        raise DataError(
            f"data file '{path}' is empty; give a file with a header and data."
        ) from exc
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataError(
            f"cannot read data file '{path}': {first_line(exc)}. Check its format."
        ) from exc
    except Exception as exc:  # pyarrow raises its own types for corrupt Parquet files
        raise DataError(f"cannot read data file '{path}': {type(exc).__name__}.") from exc
