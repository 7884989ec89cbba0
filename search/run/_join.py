"""Joining an existing study: what a run leaves unset comes from the study it names.

On another machine, `tune run --storage URL --tracking-uri URL --study NAME` alone joins the
study with every identity setting as the study has it. The data must be readable there: a
built-in, the stored path if it exists, or `--data` naming the same content at another path
(the study's digest of its data is checked, search/run/_setup.py). Without a `[space]`
table, the joining run searches the ranges and choices the study records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from objectives import BUILTINS
from search.stores._lookup import peek_study_attrs
from search.stores._names import DEFAULT_STORAGE
from search.stores._storage import mask_url
from spaces import ConfigError, SpaceConfig

# Spec settings a joining run takes from the study when it does not set them.
FROM_STUDY = (
    "data", "target", "task", "metric", "space", "cv", "seed", "sampler", "pruner", "backend",
)  # fmt: skip


def fill_from_study(values: dict[str, Any]) -> dict[str, Any]:
    """`values` (the settings a run was given), completed from the study `--study` names.

    Raises:
        ConfigError: The study does not exist and no --data creates it, or its data is not
            readable here and no --data says where it is.
    """
    name = values.get("study")
    if not name or not str(name).strip():
        return values  # the study is named after the data, so the data is given
    storage = values.get("storage") or DEFAULT_STORAGE
    stored = peek_study_attrs(storage, name)
    if stored is None:
        if "data" not in values:
            raise ConfigError(
                f"study '{name}' does not exist in {mask_url(storage)}; give --data to create it."
            )
        return values
    filled = {key: stored[key] for key in FROM_STUDY if key in stored and key not in values}
    if "data" in filled and not _readable(str(filled["data"])):
        raise ConfigError(
            f"study '{name}' was made from '{filled['data']}', which cannot be read here; "
            "pass --data with the same data at its path on this machine."
        )
    if "ranges" in stored and "space_config" not in values:
        # No [space] in a --config: the study's ranges (a --max-epochs still caps them).
        filled["space_config"] = SpaceConfig.from_record(stored["ranges"])
    return {**values, **filled}


def _readable(data: str) -> bool:
    return data in BUILTINS or Path(data).exists()
