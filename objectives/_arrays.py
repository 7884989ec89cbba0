"""NumPy .npz files as rows: arrays `x` (inputs) and `y` (targets), read as a family reads them.

How an `x` of more than two dimensions is read depends on the layout asked for:

- rows (the dense family): flattened; an (N, H, W) or (N, H, W, 1 or 3) `x` keeps its image
  shape in the column names, as before families chose the reading;
- images (cnn): (N, H, W) grayscale or (N, H, W, C) images;
- sequences (rnn): (N, T, F) sequences, or (N, T) univariate ones.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from objectives._images import Shape, pixel_columns
from objectives._sequences import sequence_columns
from spaces import ConfigError, DataError

# The columns an .npz file's arrays become; `frame.attrs[TARGETS_ATTR]` names the targets.
TARGETS_ATTR = "targets"
NPZ_KEYS = {"x": ("x", "X"), "y": ("y", "Y")}


def read_npz(path: Path, layout: str | None = None) -> pd.DataFrame:
    """An .npz file with arrays `x` (inputs) and `y` (target, or one column per label).

    Raises:
        ConfigError: `x` cannot be read in the layout asked for.
        DataError: Arrays missing, of mismatched lengths, or sequences holding NaN.
    """
    x, y = _arrays(path)
    if x.ndim == 0 or y.ndim == 0 or y.ndim > 2 or len(x) != len(y):
        raise DataError(
            f"data file '{path}': x has shape {x.shape} and y {y.shape}; give x with one row "
            "per example and y with as many rows (one column, or one per label)."
        )
    names = _columns(path, x, layout)
    if layout == "sequences" and not np.isfinite(x).all():
        bad = np.flatnonzero(~np.isfinite(x.reshape(len(x), -1)).all(axis=1))
        raise DataError(
            f"data file '{path}': x holds NaN or infinite values in {len(bad)} sequence(s), "
            f"the first at row {bad[0]}; fill or drop those sequences."
        )
    labels = y.reshape(len(y), -1)
    targets = (
        ["target"] if labels.shape[1] == 1 else [f"target_{i}" for i in range(labels.shape[1])]
    )
    frame = pd.DataFrame(x.reshape(len(x), -1), columns=names)
    frame[targets] = labels
    frame.attrs[TARGETS_ATTR] = targets
    return frame


def npz_ndim(path: Path) -> int | None:
    """The number of dimensions of an .npz file's `x`, read from its header alone; None when
    the file cannot be read (loading it then says why)."""
    try:
        with zipfile.ZipFile(path) as archive:
            member = next(f"{k}.npy" for k in NPZ_KEYS["x"] if f"{k}.npy" in archive.namelist())
            with archive.open(member) as file:
                version = np.lib.format.read_magic(file)
                read = (
                    np.lib.format.read_array_header_1_0
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0
                )
                shape, _, _ = read(file)
    except (OSError, ValueError, StopIteration, zipfile.BadZipFile):
        return None
    return len(shape)


def _arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as arrays:
        found = {
            name: next((k for k in keys if k in arrays), None) for name, keys in NPZ_KEYS.items()
        }
        if None in found.values():
            raise DataError(
                f"data file '{path}' holds arrays {sorted(arrays.files)}; an .npz file needs "
                "an array 'x' (inputs, one row per example) and an array 'y' (targets)."
            )
        return arrays[found["x"]], arrays[found["y"]]


def _columns(path: Path, x: np.ndarray, layout: str | None) -> list[str]:
    if layout == "sequences":
        if x.ndim not in (2, 3):
            raise ConfigError(
                f"the rnn space needs sequences: x in '{path}' has shape {x.shape}; give x as "
                "(N, T, F) sequences or (N, T), or use --space cnn or dense."
            )
        return sequence_columns((x.shape[1], x.shape[2] if x.ndim == 3 else 1))
    shape = _image_shape(x)
    if layout == "images" and shape is None:
        raise ConfigError(
            "the cnn space needs images: give a folder of images (one subfolder per class) "
            f"or an .npz file whose x holds images (x in '{path}' has shape {x.shape}), "
            "or use --space dense."
        )
    if shape is not None:
        return pixel_columns(shape)
    return [f"x{i}" for i in range(int(np.prod(x.shape[1:])))]


def _image_shape(x: np.ndarray) -> Shape | None:
    """Images are (n, height, width) or (n, height, width, 1 or 3) arrays."""
    if x.ndim == 3:
        return (x.shape[1], x.shape[2], 1)
    if x.ndim == 4 and x.shape[3] in (1, 3):
        return (x.shape[1], x.shape[2], x.shape[3])
    return None
