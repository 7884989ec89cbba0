"""The lecture's rules of thumb as data: the task table, valid losses and the power-of-two rule."""

from __future__ import annotations

from dataclasses import dataclass

TASKS = ("regression", "binary", "multiclass", "multilabel")


@dataclass(frozen=True)
class TaskRule:
    """What the lecture prescribes for one task: the output activation and the canonical loss."""

    output_activation: str
    loss: str


TASK_TABLE: dict[str, TaskRule] = {
    "regression": TaskRule(output_activation="linear", loss="mse"),
    "binary": TaskRule(output_activation="sigmoid", loss="binary_crossentropy"),
    "multiclass": TaskRule(output_activation="softmax", loss="categorical_crossentropy"),
    "multilabel": TaskRule(output_activation="sigmoid", loss="binary_crossentropy"),
}

# The first entry of each tuple is the task's canonical loss (TASK_TABLE).
LOSSES_BY_TASK: dict[str, tuple[str, ...]] = {
    "regression": ("mse", "mae", "huber", "log_cosh", "mape"),
    "binary": ("binary_crossentropy", "binary_focal_crossentropy"),
    "multiclass": ("categorical_crossentropy", "categorical_focal_crossentropy"),
    "multilabel": ("binary_crossentropy", "binary_focal_crossentropy"),
}

# MAE and MAPE (and their smooth cousins) grow linearly with an error, so a few outliers
# cannot dominate the fit; MSE squares the error and is pulled towards them.
ROBUST_TO_OUTLIERS: dict[str, bool] = {
    "mse": False,
    "mae": True,
    "mape": True,
    "huber": True,
    "log_cosh": True,
}

# MAPE divides by the target, so it is meaningless when a target is zero or close to it.
MAPE_MIN_ABS_TARGET = 1e-3

UNITS_MIN = 8
UNITS_MAX = 1024


def power_of_two_rule(n_inputs: int) -> int:
    """The power of two nearest to twice the number of inputs (30 inputs -> 60 -> 64).

    Nearest as the lecture words it, by plain distance: 23 inputs give 46, which is nearer
    to 32 than to 64. A tie (24 is as far from 16 as from 32) goes up.

    Args:
        n_inputs: Number of input features after preprocessing.

    Returns:
        The seed width n0 for hidden layers, clamped to [UNITS_MIN, UNITS_MAX].
    """
    if n_inputs < 1:
        raise ValueError(f"n_inputs must be at least 1, but got n_inputs={n_inputs}.")
    twice = 2 * n_inputs
    lower = 1 << (twice.bit_length() - 1)  # the largest power of two <= twice
    upper = lower if lower == twice else 2 * lower
    n0 = lower if twice - lower < upper - twice else upper
    return min(max(n0, UNITS_MIN), UNITS_MAX)


def units_range(n0: int) -> tuple[int, int]:
    """The searched widths around the rule: n0/4 to 4*n0, clamped to 8..1024."""
    return max(n0 // 4, UNITS_MIN), min(n0 * 4, UNITS_MAX)


def valid_losses(task: str, min_abs_target: float | None = None) -> tuple[str, ...]:
    """Losses valid for `task`; MAPE only when no target is zero or near zero."""
    losses = LOSSES_BY_TASK[task]
    if min_abs_target is None or min_abs_target < MAPE_MIN_ABS_TARGET:
        losses = tuple(loss for loss in losses if loss != "mape")
    return losses
