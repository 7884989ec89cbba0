"""From a data source to train/validation/test arrays, with the task worked out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from objectives._arrays import TARGETS_ATTR
from objectives._fingerprint import DataFingerprint, fingerprint
from objectives._images import IMAGE_SUFFIXES, image_shape
from objectives._preprocess import Preprocessor
from objectives._sequences import sequence_shape
from objectives._sources import BUILTIN_IMAGES, BUILTINS, load_frame
from objectives._task import TargetEncoding, infer_task
from objectives._transfer import check_fits
from spaces import BaseModel, ConfigError, DataError, Problem

MIN_ROWS = 10
EXAMPLE_ROWS = 5
VALIDATION_FRACTION = 0.2
TEST_FRACTION = 0.2


@dataclass(frozen=True)
class Splits:
    """Model-ready arrays. The test split is for the final score of the best model only."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class PreparedData:
    """Everything a study needs from the data, and everything an export needs to replay it."""

    splits: Splits
    problem: Problem
    encoding: TargetEncoding
    preprocessor: Preprocessor
    task_reason: str
    fingerprint: DataFingerprint
    example: pd.DataFrame  # a few raw training rows, input columns only, as the file has them
    rest: pd.DataFrame  # the raw rows outside the test split (train and validation), for folds
    test: pd.DataFrame  # the raw rows of the test split
    notes: tuple[str, ...] = field(default=())

    def schema(self) -> dict[str, Any]:
        """JSON-ready description of inputs, target and preprocessing."""
        return {
            "task": self.encoding.task,
            "target": list(self.encoding.columns),
            "classes": list(self.encoding.classes),
            "inputs": self.preprocessor.schema(),
            "preprocessor": self.preprocessor.to_dict(),
        }


def prepare(
    source: str,
    target: str | None = None,
    task: str | None = None,
    seed: int = 0,
    layout: str = "rows",
    base: BaseModel | None = None,
) -> PreparedData:
    """Load, split (stratified for classes), and preprocess a dataset.

    Args:
        source: A built-in dataset name or a CSV, Parquet or .npz path.
        target: Target column; a comma-separated list means multi-label. Default: last column.
        task: Forces the task instead of inferring it.
        seed: Seed of the splits.
        layout: How the family reads an example: rows, images or sequences (spaces.LAYOUTS).
        base: A base model to transfer from; it must take the data's shape.
    """
    if Path(source).suffix.lower() in IMAGE_SUFFIXES:
        raise DataError(
            f"'{source}' is one image, something to predict; to search, give a folder of "
            "images with one subfolder per class."
        )
    frame = load_frame(source, layout=layout)
    whole = fingerprint(frame, source, builtin=source in BUILTINS)
    columns = target_columns(frame, target)
    frame, notes = _drop_missing_targets(frame, columns)
    if source in BUILTINS and Path(source).exists():
        notes.append(
            f"'{source}' is read as the built-in dataset; for the file or folder of that "
            f"name, write ./{source}"
        )
    encoding, reason = infer_task(frame[columns], task)
    features = frame.drop(columns=columns)
    if features.shape[1] == 0:
        raise DataError("the data has no feature columns besides the target; add input columns.")
    train, val, test = _split(frame, encoding, seed)
    preprocessor = Preprocessor.fit(features.loc[train.index])
    splits = Splits(
        *split_arrays(train, preprocessor, encoding),
        *split_arrays(val, preprocessor, encoding),
        *split_arrays(test, preprocessor, encoding),
    )
    problem = Problem(
        task=encoding.task,
        n_inputs=preprocessor.width,
        n_outputs=encoding.n_outputs,
        min_abs_target=_min_abs_target(frame, encoding),
        **target_standardisation(splits.y_train, encoding.task),
        image_shape=_image_shape(source, preprocessor.columns, layout),
        sequence_shape=sequence_shape(preprocessor.columns),
        base=base,
    )
    if base is not None:
        check_fits(base, problem)
    example = train[preprocessor.columns].head(EXAMPLE_ROWS).reset_index(drop=True)
    rest = pd.concat([train, val])
    return PreparedData(
        splits, problem, encoding, preprocessor, reason, whole, example, rest, test, tuple(notes)
    )


def _image_shape(source: str, columns: list[str], layout: str) -> tuple[int, int, int] | None:
    # A built-in such as digits stays rows, but knows its images for the cnn family.
    if layout == "images" and source in BUILTIN_IMAGES:
        return BUILTIN_IMAGES[source]
    return image_shape(columns)


def target_columns(frame: pd.DataFrame, target: str | None) -> list[str]:
    """Resolve --target against the frame's columns.

    The default is the columns the source names as targets (an .npz file's `y`), else
    the last column.
    """
    if target is None or not target.strip():
        return list(frame.attrs.get(TARGETS_ATTR, [str(frame.columns[-1])]))
    # "a,a" names one column, not two labels that are the same column.
    names = list(dict.fromkeys(name.strip() for name in target.split(",") if name.strip()))
    if not names:
        raise ConfigError(f"target must name at least one column, but got target={target!r}.")
    missing = [name for name in names if name not in frame.columns]
    if missing:
        shown = ", ".join(map(str, frame.columns[:12])) + (", ..." if frame.shape[1] > 12 else "")
        raise DataError(f"unknown target column '{missing[0]}'. The columns are: {shown}.")
    return names


def _drop_missing_targets(
    frame: pd.DataFrame, columns: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    missing = frame[columns].isna().any(axis=1)
    if not missing.any():
        return frame, []
    kept = frame.loc[~missing]
    if kept.empty:
        raise DataError("every row has a missing target value; fill the --target column.")
    return kept, [f"dropped {int(missing.sum())} row(s) with a missing target value"]


def _split(
    frame: pd.DataFrame, encoding: TargetEncoding, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    if len(frame) < MIN_ROWS:
        raise DataError(
            f"too few rows to split: {len(frame)}; train, validation and test need "
            f"at least {MIN_ROWS} rows in all."
        )
    stratify = _strata(frame, encoding)
    rest, test = _split_once(frame, TEST_FRACTION, stratify, seed)
    strata_rest = None if stratify is None else stratify.loc[rest.index]
    val_share = VALIDATION_FRACTION / (1 - TEST_FRACTION)
    train, val = _split_once(rest, val_share, strata_rest, seed)
    return train, val, test


def _strata(frame: pd.DataFrame, encoding: TargetEncoding) -> pd.Series | None:
    if encoding.task not in ("binary", "multiclass"):
        return None
    column = frame[encoding.columns[0]]
    counts = column.value_counts()
    counts = counts[counts > 0]  # a categorical dtype also counts its unused categories
    if counts.min() < 3:
        rare = counts.idxmin()
        rare = rare.item() if isinstance(rare, np.generic) else rare  # 7, not np.int64(7)
        raise DataError(
            f"class {rare!r} has only {counts.min()} row(s); every class needs "
            "at least 3 rows, one for each of train, validation and test."
        )
    return column


def _split_once(
    frame: pd.DataFrame, fraction: float, stratify: pd.Series | None, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        first, second = train_test_split(
            frame, test_size=fraction, stratify=stratify, random_state=seed
        )
    except ValueError as exc:
        reason = str(exc).strip().rstrip(".")
        raise DataError(
            f"cannot split the data: {reason}. Add rows or merge rare classes."
        ) from exc
    return first, second


def split_arrays(
    frame: pd.DataFrame, preprocessor: Preprocessor, encoding: TargetEncoding
) -> tuple[np.ndarray, np.ndarray]:
    """One split's rows as model inputs and encoded targets."""
    return preprocessor.transform(frame[preprocessor.columns]), encoding.encode(frame)


def target_standardisation(y_train: np.ndarray, task: str) -> dict[str, Any]:
    """Mean and standard deviation of the training targets of a regression.

    Raw targets such as prices (around 1e5) or the diabetes scores (mean 152, std 77) leave a
    freshly initialised network, whose outputs start near 0, far from every answer: the
    textbook baseline scored worse than predicting the mean.
    """
    if task != "regression":
        return {}
    values = y_train[:, 0].astype(np.float64)
    center, scale = float(values.mean()), float(values.std())
    if not (math.isfinite(center) and math.isfinite(scale)) or scale <= 0:
        return {"target_center": center if math.isfinite(center) else 0.0}
    return {"target_center": center, "target_scale": scale}


def _min_abs_target(frame: pd.DataFrame, encoding: TargetEncoding) -> float | None:
    if encoding.task != "regression":
        return None
    return float(np.abs(frame[encoding.columns[0]].to_numpy(dtype=np.float64)).min())
