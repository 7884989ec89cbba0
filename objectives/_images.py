"""Image folders as rows: one column per pixel value, the class folder's name as the target.

The layout is Keras's `image_dataset_from_directory` one: a folder with one subfolder per
class, the images inside. A folder of images alone gives rows without a target, to predict.
The dense family reads the flattened pixels; the preprocessing standardises them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from spaces import DataError

IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png", ".tif", ".tiff", ".webp")
LABEL_COLUMN = "label"
# `frame.attrs[FILES_ATTR]`: each row's image, relative to the folder, for predictions.
FILES_ATTR = "files"
# Inputs of one flattened image (128 x 128 RGB); beyond that a dense network is the wrong tool
# and the frame alone takes gigabytes.
MAX_INPUTS = 128 * 128 * 3
GRAY_MODES = frozenset({"1", "L", "LA", "I", "I;16", "F"})
# Pixel columns carry the image shape, img28x28x1_0 and on, so rows of another shape can
# never pass for the ones a model was trained on, and prediction can resize to it.
_COLUMN = re.compile(r"img(\d+)x(\d+)x([13])_\d+")

Shape = tuple[int, int, int]  # height, width, channels


def read_image_folder(folder: Path, shape: Shape | None = None) -> pd.DataFrame:
    """Load every image of `folder` as one row of pixel values.

    Args:
        folder: One subfolder per class with its images, or images alone (no target).
        shape: Height, width and channels to convert every image to. By default the size
            most images have, and one channel if all are grayscale, else three (RGB).

    Raises:
        DataError: No images, an unreadable image, or images too large for the dense family.
    """
    files, labels = _files(folder)
    if not files:
        raise DataError(
            f"folder '{folder}' has no images ({', '.join(IMAGE_SUFFIXES)}); give one "
            "subfolder per class with its images in it."
        )
    frame = _rows(files, shape, f"the images of '{folder}'")
    if labels is not None:
        frame[LABEL_COLUMN] = labels
    frame.attrs[FILES_ATTR] = [f.relative_to(folder).as_posix() for f in files]
    return frame


def read_image_file(path: Path, shape: Shape | None = None) -> pd.DataFrame:
    """One image as one row without a target, to predict (see read_image_folder)."""
    frame = _rows([path], shape, f"image '{path}'")
    frame.attrs[FILES_ATTR] = [path.name]
    return frame


def _rows(files: list[Path], shape: Shape | None, what: str) -> pd.DataFrame:
    shape = shape or _common_shape(files)
    if shape[0] * shape[1] * shape[2] > MAX_INPUTS:
        raise DataError(
            f"{what} are {shape[0]}x{shape[1]} with {shape[2]} channel(s), more than "
            f"{MAX_INPUTS} inputs for a dense network; resize them to 128x128 or less."
        )
    return pd.DataFrame(np.stack([_pixels(f, shape) for f in files]), columns=pixel_columns(shape))


def pixel_columns(shape: Shape) -> list[str]:
    """The pixel columns of images of `shape`."""
    height, width, channels = shape
    return [f"img{height}x{width}x{channels}_{i}" for i in range(height * width * channels)]


def image_shape(names: list[str]) -> Shape | None:
    """The image shape that pixel columns were made for, or None if they are no such columns."""
    found = {m.groups() for m in map(_COLUMN.fullmatch, names) if m}
    if len(found) != 1 or len(names) == 0:
        return None
    height, width, channels = map(int, found.pop())
    return (height, width, channels) if len(names) == height * width * channels else None


def _files(folder: Path) -> tuple[list[Path], list[str] | None]:
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and _images(p))
    if not classes:
        return _images(folder), None
    pairs = [(image, c.name) for c in classes for image in _images(c)]
    return [image for image, _ in pairs], [label for _, label in pairs]


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _common_shape(files: list[Path]) -> Shape:
    sizes: Counter[tuple[int, int]] = Counter()
    gray = True
    for path in files:
        with _opened(path) as image:  # reads the header only
            sizes[image.size] += 1
            gray = gray and image.mode in GRAY_MODES
    (width, height), _ = sizes.most_common(1)[0]
    return height, width, 1 if gray else 3


def _pixels(path: Path, shape: Shape) -> np.ndarray:
    height, width, channels = shape
    with _opened(path) as image:
        converted = image.convert("L" if channels == 1 else "RGB")
        if converted.size != (width, height):
            converted = converted.resize((width, height), Image.Resampling.BILINEAR)
        return np.asarray(converted, dtype=np.uint8).reshape(-1)


@contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    """The image, with any failure to read it (here or in the block) as one DataError."""
    try:
        with Image.open(path) as image:
            yield image
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot read image '{path}': {exc}. Remove or replace it.") from exc
