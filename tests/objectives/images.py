"""Small image folders made from scikit-learn's bundled digits (8x8 grayscale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits


def digit_images(classes: int = 3, per_class: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """The first `per_class` digits of each of the first `classes` classes, as uint8 pixels."""
    bunch = load_digits()
    pixels = (bunch.images * 255 / 16).astype(np.uint8)
    keep = np.concatenate([np.flatnonzero(bunch.target == c)[:per_class] for c in range(classes)])
    return pixels[keep], bunch.target[keep]


def digits_folder(root: Path, classes: int = 3, per_class: int = 30) -> Path:
    """One subfolder per class (`digit_0`, ...), one PNG per image, named by its index."""
    images, labels = digit_images(classes, per_class)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / f"digit_{label}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, mode="L").save(folder / f"{i:03d}.png")
    return root
