"""Predictions from an export: raw rows in the training file's format in, original labels out.

An export is a folder with `model.keras` and `tune.json` (see search.ship._export); a registered
model (`models:/NAME@champion`) carries the same two files as its pyfunc artifacts.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from objectives import (
    Preprocessor,
    TargetEncoding,
    image_shape,
    load_frame,
    predict,
    sequence_shape,
)
from objectives._images import FILES_ATTR as IMAGE_FILES_ATTR
from search.ship._files import META_FILE, MODEL_FILE
from search.stores._storage import mask_text, sqlite_path
from spaces import ConfigError, DataError, first_line

REQUIRED_META = ("task", "target", "classes", "inputs", "preprocessor")
MODEL_URI_SCHEMES = ("models:/", "runs:/")
SHOWN_COLUMNS = 12


@dataclass(frozen=True)
class Predictor:
    """A loaded export: the Keras model and the preprocessing and labels it was trained with."""

    model: keras.Model
    meta: dict[str, Any]

    @classmethod
    def load(cls, folder: Path) -> Predictor:
        """Load an export folder.

        Raises:
            ConfigError: The folder is missing or is not a tune export.
        """
        if not folder.is_dir():
            raise ConfigError(
                f"model '{folder}' does not exist; give a folder made by `tune export` "
                "or a models:/NAME@champion URI."
            )
        return cls.from_files(folder / MODEL_FILE, folder / META_FILE, shown=str(folder))

    @classmethod
    def from_files(cls, model_path: Path, meta_path: Path, shown: str | None = None) -> Predictor:
        """Load a `model.keras` (in safe mode: no code from the file runs) and its `tune.json`."""
        where = shown or str(meta_path.parent)
        for path in (meta_path, model_path):
            if not path.is_file():
                raise ConfigError(
                    f"'{where}' is not a tune export: it has no {path.name}. "
                    "Make one with `tune export STUDY --out DIR`."
                )
        meta = _read_meta(meta_path)
        try:
            model = keras.saving.load_model(model_path, safe_mode=True)
        except Exception as exc:  # Keras raises many types for corrupt or foreign files
            raise ConfigError(f"cannot load '{model_path}': {first_line(exc)}.") from exc
        return cls(model, meta)

    @property
    def preprocessor(self) -> Preprocessor:
        """The preprocessing fitted on the study's training split."""
        return Preprocessor.from_dict(self.meta["preprocessor"])

    @property
    def encoding(self) -> TargetEncoding:
        """How model outputs map back to the original labels."""
        meta = self.meta
        return TargetEncoding(meta["task"], tuple(meta["target"]), tuple(meta["classes"]))

    def as_rows(self, model_input: pd.DataFrame | np.ndarray) -> pd.DataFrame:
        """Raw rows from a frame, or from an image tensor (N, height, width, channels) or a
        sequence tensor (N, steps, features).

        Raises:
            DataError: An array whose shape is not the images' or sequences' the model was
                trained on.
        """
        if not isinstance(model_input, np.ndarray):
            return pd.DataFrame(model_input)
        columns = self.preprocessor.columns
        shape = tensor_shape(columns)
        if shape is None or model_input.shape[1:] != shape:
            expected = "a table of rows" if shape is None else f"a tensor of shape (N, *{shape})"
            raise DataError(
                f"an array of shape {model_input.shape} cannot be predicted; the model takes "
                f"{expected}."
            )
        return pd.DataFrame(model_input.reshape(len(model_input), -1), columns=columns)

    def predict(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
        """Predict raw rows; returns the predictions and warnings (such as ignored columns).

        Raises:
            DataError: No rows, missing columns, or values of the wrong type.
        """
        preprocessor = self.preprocessor
        warnings = check_columns(frame, preprocessor.columns)
        x = preprocessor.transform(frame[preprocessor.columns])
        return output_frame(predict(self.model, x), self.encoding), warnings


def check_columns(frame: pd.DataFrame, needed: list[str]) -> list[str]:
    """Refuse empty input and missing columns; warn about columns the model ignores."""
    if len(frame) == 0:
        raise DataError("there are no rows to predict; give a file with a header and data rows.")
    columns = {str(c) for c in frame.columns}
    missing = [c for c in needed if c not in columns]
    extra = [str(c) for c in frame.columns if str(c) not in set(needed)]
    if missing:
        # A misspelt name shows up on both sides; naming the unknown ones shows which.
        unknown = f"; unknown column(s): {_names(extra)}" if extra else ""
        raise DataError(
            f"missing column(s) {_names(missing)}; the model reads {_names(needed)}{unknown}. "
            "Use the training file's column names."
        )
    return [f"ignoring column(s) the model does not use: {_names(extra)}."] if extra else []


def output_frame(outputs: np.ndarray, encoding: TargetEncoding) -> pd.DataFrame:
    """Original labels with per-class probabilities, 0/1 per label, or numbers (regression)."""
    if encoding.task == "regression":
        return pd.DataFrame({encoding.columns[0]: outputs[:, 0]})
    if encoding.task == "multilabel":
        return _multilabel_frame(outputs, encoding.columns)
    frame = pd.DataFrame({encoding.columns[0]: encoding.decode(outputs)})
    # A binary model has one sigmoid output: the probability of the second class.
    if encoding.task == "binary":
        outputs = np.column_stack([1.0 - outputs[:, 0], outputs[:, 0]])
    for i, label in enumerate(encoding.classes):
        frame[f"proba_{label}"] = outputs[:, i]
    return frame


def _multilabel_frame(outputs: np.ndarray, columns: tuple[str, ...]) -> pd.DataFrame:
    frame = pd.DataFrame({c: (outputs[:, i] >= 0.5).astype(int) for i, c in enumerate(columns)})
    for i, column in enumerate(columns):
        frame[f"proba_{column}"] = outputs[:, i]
    return frame


def predict_file(
    model: str, data: str, out: Path | None, tracking_uri: str
) -> tuple[int, list[str]]:
    """Predict the rows of a file or image folder with an export folder or a models:/ URI.

    Args:
        out: The CSV to write; None writes it to standard output.

    Returns:
        The number of rows written, and warnings for the user.
    """
    predictor = load_predictor(model, tracking_uri)
    columns = predictor.preprocessor.columns
    # Images are converted to the shape the model was trained on, whatever their size; an
    # .npz file's x is read as the model's examples were: rows, images or sequences.
    frame = load_frame(data, image_shape=image_shape(columns), layout=input_layout(columns))
    predictions, warnings = predictor.predict(frame)
    if IMAGE_FILES_ATTR in frame.attrs:  # which image each prediction is for
        predictions.insert(0, "file", frame.attrs[IMAGE_FILES_ATTR])
    if out is None:
        predictions.to_csv(sys.stdout, index=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        predictions.to_csv(out, index=False)
    return len(predictions), warnings


def tensor_shape(columns: list[str]) -> tuple[int, ...] | None:
    """The shape of one example for models of images or sequences; None for rows."""
    return image_shape(columns) or sequence_shape(columns)


def input_layout(columns: list[str]) -> str | None:
    """How a model's examples are read from an .npz file (None: as rows)."""
    if sequence_shape(columns) is not None:
        return "sequences"
    return "images" if image_shape(columns) is not None else None


def load_predictor(model: str, tracking_uri: str) -> Predictor:
    """An export folder's predictor, or a registered tune model's (downloaded from MLflow)."""
    if not model.startswith(MODEL_URI_SCHEMES):
        return Predictor.load(Path(model))
    with tempfile.TemporaryDirectory() as tmp:
        folder = _download(model, tracking_uri, Path(tmp)) / "artifacts"
        return Predictor.from_files(folder / MODEL_FILE, folder / META_FILE, shown=model)


def _download(uri: str, tracking_uri: str, into: Path) -> Path:
    path = sqlite_path(tracking_uri)
    if path is not None and not path.is_file():
        raise ConfigError(
            f"no tracking store at '{path}' to load '{uri}' from; pass --tracking-uri."
        )
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    try:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=uri, dst_path=str(into), tracking_uri=tracking_uri
        )
    except Exception as exc:  # MLflow raises its own types for unknown names and aliases
        reason = mask_text(first_line(exc), tracking_uri)
        raise ConfigError(
            f"cannot load '{uri}': {reason}. Check the name and --tracking-uri."
        ) from exc
    return Path(local)


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"'{path}' is not a valid tune.json: {first_line(exc)}.") from exc
    missing = [key for key in REQUIRED_META if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise ConfigError(f"'{path}' is not a valid tune.json: it lacks {', '.join(missing)}.")
    return dict(meta)


def _names(columns: list[str]) -> str:
    shown = ", ".join(f"'{c}'" for c in columns[:SHOWN_COLUMNS])
    return shown + (
        f" and {len(columns) - SHOWN_COLUMNS} more" if len(columns) > SHOWN_COLUMNS else ""
    )
