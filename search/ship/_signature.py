"""The registered model's MLflow signature and input example, in the training file's terms.

Raw rows go in, as `tune predict` takes them: one column per input column of the training
file, or, for images, the pixel tensor (N, height, width, channels), and for sequences the
tensor (N, steps, features). Numeric columns are
declared double and optional, so a missing value or an integer column that arrives as
float still reaches tune's own imputation instead of MLflow's schema check; a column that
is absent is refused by tune with its name (search/ship/_predict.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema, TensorSpec

from objectives import Preprocessor
from search.ship._predict import tensor_shape

# Pixels are read as 0..255 values; a float tensor takes both uint8 images and arrays.
PIXEL_DTYPE = np.dtype(np.float32)


def raw_signature(meta: dict[str, Any]) -> ModelSignature:
    """The signature of an export (its tune.json): raw inputs in, labels or values out."""
    return ModelSignature(inputs=_inputs(meta), outputs=_outputs(meta))


def input_example(meta: dict[str, Any], example: pd.DataFrame) -> pd.DataFrame | np.ndarray:
    """A few raw training rows, in the form the signature declares."""
    shape = tensor_shape(Preprocessor.from_dict(meta["preprocessor"]).columns)
    if shape is None:
        return example
    return example.to_numpy(dtype=PIXEL_DTYPE).reshape(len(example), *shape)


def _inputs(meta: dict[str, Any]) -> Schema:
    preprocessor = Preprocessor.from_dict(meta["preprocessor"])
    shape = tensor_shape(preprocessor.columns)
    if shape is not None:
        return Schema([TensorSpec(PIXEL_DTYPE, (-1, *shape))])
    numeric = [ColSpec("double", c.name, required=False) for c in preprocessor.numeric]
    categorical = [ColSpec("string", c.name, required=False) for c in preprocessor.categorical]
    return Schema([*numeric, *categorical])


def _outputs(meta: dict[str, Any]) -> Schema:
    task, columns, classes = meta["task"], meta["target"], meta["classes"]
    if task == "regression":
        return Schema([ColSpec("double", columns[0])])
    if task == "multilabel":
        labels = [ColSpec("long", c) for c in columns]
        return Schema([*labels, *(ColSpec("double", f"proba_{c}") for c in columns)])
    probabilities = [ColSpec("double", f"proba_{label}") for label in classes]
    return Schema([ColSpec(_label_type(classes), columns[0]), *probabilities])


def _label_type(classes: list[Any]) -> str:
    if all(isinstance(c, bool) for c in classes):
        return "boolean"
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return "long"
    if all(isinstance(c, int | float) and not isinstance(c, bool) for c in classes):
        return "double"
    return "string"
