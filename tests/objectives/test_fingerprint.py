"""The whole-data digest: every row counts, the file format does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from objectives import data_digest, prepare
from objectives._fingerprint import fingerprint


def _frame(rows: int = 12_000) -> pd.DataFrame:
    generator = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": generator.normal(size=rows),
            "n": generator.integers(0, 9, size=rows),
            "city": generator.choice(["a", "b"], size=rows),
            "y": generator.integers(0, 2, size=rows),
        }
    )


def test_a_change_beyond_the_first_ten_thousand_rows_changes_the_digest() -> None:
    # MLflow's own pandas digest reads only the first 10,000 rows.
    frame = _frame()
    changed = frame.copy()
    changed.loc[11_000, "x"] += 1e-9

    assert data_digest(frame) != data_digest(changed)


def test_text_and_column_names_count_too() -> None:
    frame = _frame(50)
    text = frame.copy()
    text.loc[40, "city"] = "c"

    assert data_digest(frame) != data_digest(text)
    assert data_digest(frame) != data_digest(frame.rename(columns={"x": "z"}))
    assert data_digest(frame) == data_digest(frame.copy())


def test_the_same_rows_from_csv_and_parquet_have_one_digest(tmp_path: Path) -> None:
    frame = _frame(200)
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_parquet(tmp_path / "d.parquet", index=False)

    from_csv = prepare(str(tmp_path / "d.csv"), target="y").fingerprint
    from_parquet = prepare(str(tmp_path / "d.parquet"), target="y").fingerprint

    assert from_csv.digest == from_parquet.digest
    assert from_csv.source == str((tmp_path / "d.csv").resolve())
    assert (from_csv.name, from_csv.rows, from_csv.builtin) == ("d.csv", 200, False)
    assert dict(from_csv.columns) == {"x": "double", "n": "long", "city": "string", "y": "long"}


def test_a_built_in_dataset_is_named_by_its_name() -> None:
    found = fingerprint(pd.DataFrame({"a": [1.0]}), "iris", builtin=True)

    assert (found.name, found.source, found.builtin) == ("iris", "iris", True)
    assert len(found.digest) == 32


def test_prepared_data_keeps_a_few_raw_training_rows_as_an_example() -> None:
    data = prepare("iris")

    assert len(data.example) == 5
    assert list(data.example.columns) == data.preprocessor.columns
    assert data.fingerprint.rows == 150
