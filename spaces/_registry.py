"""The registry of search-space families: adding a family adds an entry, not a branch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna

from spaces._cnn import cnn_baseline, cnn_space
from spaces._config import SpaceConfig
from spaces._dense import dense_baseline, dense_space
from spaces._errors import check_choice
from spaces._problem import Problem
from spaces._rnn import rnn_baseline, rnn_space
from spaces._rules import TASKS

Suggest = Callable[[optuna.trial.BaseTrial, Problem, SpaceConfig], dict[str, Any]]
Baseline = Callable[[Problem, SpaceConfig], dict[str, Any]]


@dataclass(frozen=True)
class SpaceFamily:
    """A family of models: how to sample it, its textbook baseline, the tasks it serves,
    and the builder that makes its models."""

    suggest: Suggest
    baseline: Baseline
    tasks: tuple[str, ...]
    # Which model builder (objectives.BUILDERS) turns this family's parameters into a model.
    builder: str = "dense"
    # How the family reads an example (one of LAYOUTS): a row, an image or a sequence.
    layout: str = "rows"


SPACES: dict[str, SpaceFamily] = {
    "dense": SpaceFamily(suggest=dense_space, baseline=dense_baseline, tasks=TASKS),
    # Needs images (Problem.image_shape); its baseline says so before anything is stored.
    "cnn": SpaceFamily(cnn_space, cnn_baseline, TASKS, builder="cnn", layout="images"),
    # Needs sequences (Problem.sequence_shape).
    "rnn": SpaceFamily(rnn_space, rnn_baseline, TASKS, builder="rnn", layout="sequences"),
}
LAYOUTS = ("rows", "images", "sequences")
# Which family reads what a base model takes: (height, width, channels) or (steps, features).
FAMILY_BY_BASE_RANK = {3: "cnn", 2: "rnn"}


def get_space(name: str) -> SpaceFamily:
    """Look a family up by name; an unknown name fails with the list of valid ones."""
    check_choice("space", name, SPACES)
    return SPACES[name]
