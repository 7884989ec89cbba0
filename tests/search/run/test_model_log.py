"""Logging a trial's model: MLflow's one-time package map, paid before the trials."""

from __future__ import annotations

import pytest
from mlflow.utils import requirements_utils

from search.run._model_log import warm_up_model_logging
from search.stores._ahead import head_start


def test_the_package_map_made_during_the_head_start_is_taken_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(requirements_utils, "_MODULES_TO_PACKAGES", None)
    with head_start("http://127.0.0.1:9/"):
        # Not made here: the writer process made it while this one would have imported Keras.
        monkeypatch.setattr(requirements_utils.importlib_metadata, "packages_distributions", _here)
        warm_up_model_logging()
    taken = requirements_utils._MODULES_TO_PACKAGES
    assert taken is not None and taken["keras"] == ["keras"]


def _here() -> None:
    raise AssertionError("the package map was made in this process")


def test_without_a_head_start_the_map_is_made_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(requirements_utils, "_MODULES_TO_PACKAGES", None)
    warm_up_model_logging()
    assert requirements_utils._MODULES_TO_PACKAGES["keras"] == ["keras"]
