"""Where data comes from: scikit-learn's bundled datasets, CSV, Parquet and NumPy .npz files,
and folders of images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets

from objectives._images import (
    IMAGE_SUFFIXES,
    Shape,
    pixel_columns,
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

# The columns an .npz file's arrays become; `frame.attrs[TARGETS_ATTR]` names the targets.
TARGETS_ATTR = "targets"
NPZ_KEYS = {"x": ("x", "X"), "y": ("y", "Y")}


def _read_npz(path: Path) -> pd.DataFrame:
    """An .npz file with arrays `x` (inputs) and `y` (target, or one column per label).

    Inputs with more than two dimensions (images, sequences) are flattened to one row of
    features per example, which is what the dense family takes; images, (n, height,
    width) or (n, height, width, channels) with 1 or 3 channels, keep their shape in the
    column names, so the cnn family can fold them back.
    """
    with np.load(path, allow_pickle=False) as arrays:
        found = {
            name: next((k for k in keys if k in arrays), None) for name, keys in NPZ_KEYS.items()
        }
        if None in found.values():
            raise DataError(
                f"data file '{path}' holds arrays {sorted(arrays.files)}; an .npz file needs "
                "an array 'x' (inputs, one row per example) and an array 'y' (targets)."
            )
        x, y = arrays[found["x"]], arrays[found["y"]]
    if x.ndim == 0 or y.ndim == 0 or y.ndim > 2 or len(x) != len(y):
        raise DataError(
            f"data file '{path}': x has shape {x.shape} and y {y.shape}; give x with one row "
            "per example and y with as many rows (one column, or one per label)."
        )
    inputs = x.reshape(len(x), -1)
    labels = y.reshape(len(y), -1)
    shape = _image_shape(x)
    targets = (
        ["target"] if labels.shape[1] == 1 else [f"target_{i}" for i in range(labels.shape[1])]
    )
    names = pixel_columns(shape) if shape else [f"x{i}" for i in range(inputs.shape[1])]
    frame = pd.DataFrame(inputs, columns=names)
    frame[targets] = labels
    frame.attrs[TARGETS_ATTR] = targets
    return frame


def _image_shape(x: np.ndarray) -> Shape | None:
    """Images are (n, height, width) or (n, height, width, 1 or 3) arrays."""
    if x.ndim == 3:
        return (x.shape[1], x.shape[2], 1)
    if x.ndim == 4 and x.shape[3] in (1, 3):
        return (x.shape[1], x.shape[2], x.shape[3])
    return None


_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": lambda path: pd.read_csv(path),
    ".parquet": lambda path: pd.read_parquet(path),
    ".pq": lambda path: pd.read_parquet(path),
    ".npz": _read_npz,
}


def load_frame(source: str, image_shape: Shape | None = None) -> pd.DataFrame:
    """Load a built-in dataset by name, a CSV, Parquet or .npz file, or a folder of images.

    Args:
        source: The name or path.
        image_shape: For a folder of images, the height, width and channels to convert
            them to (see objectives/_images.py); by default the most common ones.

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
    if suffix not in _READERS and suffix not in IMAGE_SUFFIXES:
        if not suffix and not path.exists():
            raise ConfigError(
                f"unknown built-in dataset '{source}'. "
                f"Use one of: {', '.join(sorted(BUILTINS))}, a path to a .csv, .parquet or .npz "
                "file, or a folder of images."
            )
        raise ConfigError(
            f"cannot read '{source}': unsupported file type '{suffix or path.name}'. "
            f"Use a file ending in {', '.join(sorted(_READERS))}, an image or a folder of images."
        )
    if not path.exists():
        raise DataError(f"data file '{source}' does not exist; check the path given to --data.")
    if suffix in IMAGE_SUFFIXES:  # one image, to predict
        return read_image_file(path, image_shape)
    frame = _read(path, suffix)
    if frame.empty:
        raise DataError(f"data file '{source}' has no rows; give a file with a header and data.")
    # A Parquet file may restore an index with repeated labels, which would make the
    # splits select rows by label twice; rows are identified by position from here on.
    return frame.reset_index(drop=True)


def _read(path: Path, suffix: str) -> pd.DataFrame:
    try:
        return _READERS[suffix](path)
    except DataError:
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
