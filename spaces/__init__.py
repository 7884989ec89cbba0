"""Search spaces and the lecture's rules of thumb.

A space is a function from an Optuna trial (and what is known of the data) to a plain dict.
"""

from spaces._config import (
    ACTIVATIONS,
    CELLS,
    INITIALIZERS,
    KEEP_EPOCHS,
    OPTIMIZERS,
    SpaceConfig,
    record_difference,
)
from spaces._errors import (
    ConfigError,
    DataError,
    StoreError,
    TrialFailed,
    TuneError,
    check_choice,
    first_line,
)
from spaces._problem import BaseModel, Problem
from spaces._registry import FAMILY_BY_BASE_RANK, LAYOUTS, SPACES, SpaceFamily, get_space
from spaces._rules import (
    LOSSES_BY_TASK,
    ROBUST_TO_OUTLIERS,
    TASK_TABLE,
    TASKS,
    TaskRule,
    power_of_two_rule,
    units_range,
    valid_losses,
)

__all__ = [
    "ACTIVATIONS",
    "CELLS",
    "FAMILY_BY_BASE_RANK",
    "INITIALIZERS",
    "KEEP_EPOCHS",
    "LAYOUTS",
    "LOSSES_BY_TASK",
    "OPTIMIZERS",
    "ROBUST_TO_OUTLIERS",
    "SPACES",
    "TASKS",
    "TASK_TABLE",
    "BaseModel",
    "ConfigError",
    "DataError",
    "Problem",
    "SpaceConfig",
    "SpaceFamily",
    "StoreError",
    "TaskRule",
    "TrialFailed",
    "TuneError",
    "check_choice",
    "first_line",
    "get_space",
    "power_of_two_rule",
    "record_difference",
    "units_range",
    "valid_losses",
]
