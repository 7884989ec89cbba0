"""The compared datasets, split once into a pool (what every contender sees) and a holdout.

Every contender reads the same `pool.csv` (target column `y`) and is scored on the same
`holdout.csv`; the split is made here, outside all of them, so none can see the holdout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HOLDOUT_FRACTION = 0.2
TARGET = "y"
DATASETS = ("breast_cancer", "digits", "wine", "diabetes", "hard_classes", "outliers")
TASKS = {
    "breast_cancer": "binary", "digits": "multiclass", "wine": "multiclass",
    "diabetes": "regression", "hard_classes": "multiclass", "outliers": "regression",
}  # fmt: skip


@dataclass(frozen=True)
class Split:
    """Where one dataset's pool and holdout lie, and what task they are."""

    folder: Path
    task: str

    @property
    def pool(self) -> Path:
        return self.folder / "pool.csv"

    @property
    def holdout(self) -> Path:
        return self.folder / "holdout.csv"

    @property
    def metric(self) -> str:
        return "rmse" if self.task == "regression" else "accuracy"


def _arrays(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets

    if name == "hard_classes":
        # Few informative features among many noise ones, and 10 % of labels flipped: the
        # bundled sets saturate (every tool reaches the same score), this one does not.
        return datasets.make_classification(
            n_samples=2000, n_features=40, n_informative=6, n_redundant=4, n_classes=3,
            class_sep=0.8, flip_y=0.1, random_state=7,
        )  # fmt: skip
    if name == "outliers":
        x, y = datasets.make_regression(
            n_samples=1200, n_features=20, n_informative=8, noise=10.0, random_state=7
        )
        # Heavy-tailed noise: a few targets far off, as measured data often has.
        y = y + 25.0 * np.random.default_rng(7).standard_t(df=2, size=len(y))
        return x, y
    loaded = getattr(datasets, f"load_{name}")()
    return loaded.data, loaded.target


def write_split(name: str, seed: int, root: Path) -> Split:
    """Split a dataset once for a seed (stratified for classes) and write both parts."""
    from sklearn.model_selection import train_test_split

    x, y = _arrays(name)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])]).assign(**{TARGET: y})
    classes = TASKS[name] != "regression"
    pool, holdout = train_test_split(
        frame, test_size=HOLDOUT_FRACTION, random_state=seed,
        stratify=frame[TARGET] if classes else None,
    )  # fmt: skip
    split = Split(root / f"{name}-{seed}", TASKS[name])
    split.folder.mkdir(parents=True, exist_ok=True)
    pool.to_csv(split.pool, index=False)
    holdout.to_csv(split.holdout, index=False)
    (split.folder / "task.json").write_text(json.dumps({"task": split.task}))
    return split


def read_split(folder: Path) -> Split:
    """A split written by write_split, as a contender process finds it."""
    return Split(folder, json.loads((folder / "task.json").read_text())["task"])
