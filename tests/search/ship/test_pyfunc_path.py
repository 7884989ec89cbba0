"""Registered models made before `search/` was regrouped still load their pyfunc class."""

from __future__ import annotations

from pathlib import Path

import cloudpickle

from search.ship._pyfunc import TuneModel

# MLflow's pyfunc flavour stores `python_model` with cloudpickle, which pickles an importable
# class by its path. This file was written by tune before the move, when the class lived at
# search._pyfunc.TuneModel (46 bytes: that path and an empty instance).
BEFORE_MOVE = Path(__file__).parents[1] / "data" / "tune_model_before_move.pkl"


def test_pickle_made_before_the_move_names_the_old_path() -> None:
    assert b"search._pyfunc" in BEFORE_MOVE.read_bytes()


def test_pickle_made_before_the_move_loads_as_todays_class() -> None:
    loaded = cloudpickle.loads(BEFORE_MOVE.read_bytes())

    assert type(loaded) is TuneModel


def test_new_models_pickle_the_class_at_its_new_path() -> None:
    data = cloudpickle.dumps(TuneModel())

    assert b"search.ship._pyfunc" in data
    assert type(cloudpickle.loads(data)) is TuneModel
