"""What an export folder holds, readable before Keras loads (the backend is chosen first)."""

from __future__ import annotations

import json
from pathlib import Path

MODEL_FILE = "model.keras"
META_FILE = "tune.json"
SAVED_MODEL_DIR = "saved_model"


def training_backend(model: str) -> str | None:
    """The backend an export folder's model trained on, as its tune.json records it.

    None for a models:/ URI, an export made before backends were recorded, or anything
    that is not an export (loading it then says what is wrong).
    """
    try:
        meta = json.loads((Path(model) / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    backend = meta.get("backend") if isinstance(meta, dict) else None
    return backend if isinstance(backend, str) else None
