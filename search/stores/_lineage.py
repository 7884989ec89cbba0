"""Dataset lineage: the data a study trained on, as the MLflow dataset its runs log as input.

The runs table's Dataset column then names the data and its digest, so two studies on two
versions of a file can be told apart in the UI. The digest is tune's own, over every row
(see objectives/_fingerprint.py), passed in rather than left to MLflow.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from mlflow.entities import Dataset, DatasetInput, InputTag
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

if TYPE_CHECKING:  # objectives loads TensorFlow; the writer process must not
    from objectives import DataFingerprint

TRAINING = "training"
# A schema of every column suits tables; an image folder has one column per pixel value,
# which the UI cannot show usefully, so wide data records its column count alone.
MAX_SCHEMA_COLUMNS = 1000


def dataset_input(data: DataFingerprint) -> DatasetInput:
    """The data as an MLflow dataset input with the context `training`."""
    return DatasetInput(dataset(data), tags=[InputTag(MLFLOW_DATASET_CONTEXT, TRAINING)])


def dataset(data: DataFingerprint) -> Dataset:
    """The data as an MLflow dataset: name, digest, source, schema and size."""
    builtin = data.source == data.name
    source_type, source = (
        ("code", {"tags": {"tune.builtin": data.name}})
        if builtin
        else (
            "local",
            {"uri": data.source},
        )
    )
    return Dataset(
        name=data.name,
        digest=data.digest,
        source_type=source_type,
        source=json.dumps(source),
        schema=_schema(data),
        profile=json.dumps({"num_rows": data.rows, "num_elements": data.rows * len(data.columns)}),
    )


def _schema(data: DataFingerprint) -> str | None:
    if len(data.columns) > MAX_SCHEMA_COLUMNS:
        return None
    specs = [{"type": kind, "name": name, "required": True} for name, kind in data.columns]
    return json.dumps({"mlflow_colspec": specs})
