"""The data as an MLflow dataset input: name, digest, source, schema, context training."""

from __future__ import annotations

import json

from objectives import DataFingerprint
from search.stores._lineage import MAX_SCHEMA_COLUMNS, dataset_input


def _fingerprint(columns: int = 2, builtin: bool = False) -> DataFingerprint:
    return DataFingerprint(
        name="iris" if builtin else "flowers.csv",
        source="iris" if builtin else "/data/flowers.csv",
        builtin=builtin,
        digest="0123456789abcdef0123456789abcdef",
        rows=150,
        columns=tuple((f"c{i}", "double") for i in range(columns)),
    )


def test_a_file_is_a_local_dataset_with_its_schema_and_size() -> None:
    found = dataset_input(_fingerprint())

    dataset = found.dataset
    assert (dataset.name, dataset.digest) == ("flowers.csv", "0123456789abcdef0123456789abcdef")
    assert (dataset.source_type, json.loads(dataset.source)) == (
        "local",
        {"uri": "/data/flowers.csv"},
    )
    specs = json.loads(dataset.schema)["mlflow_colspec"]
    assert [(s["name"], s["type"]) for s in specs] == [("c0", "double"), ("c1", "double")]
    assert json.loads(dataset.profile) == {"num_rows": 150, "num_elements": 300}
    assert [(t.key, t.value) for t in found.tags] == [("mlflow.data.context", "training")]


def test_a_built_in_dataset_names_its_origin_and_wide_data_skips_the_schema() -> None:
    dataset = dataset_input(_fingerprint(MAX_SCHEMA_COLUMNS + 1, builtin=True)).dataset

    assert dataset.source_type == "code"
    assert json.loads(dataset.source) == {"tags": {"tune.builtin": "iris"}}
    assert dataset.schema is None
