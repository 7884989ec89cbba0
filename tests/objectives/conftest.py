"""A writer that puts tiny frames, text or bytes in files under the test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.objectives.tiny import Write


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """Write a frame (CSV or Parquet, by suffix), text or bytes to a file; returns its path."""

    def write_file(content: pd.DataFrame | str | bytes, name: str = "data.csv") -> str:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        elif path.suffix == ".csv":
            content.to_csv(path, index=False)
        else:
            content.to_parquet(path)
        return str(path)

    return write_file
