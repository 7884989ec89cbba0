"""What a search space needs to know of the data, and nothing more."""

from __future__ import annotations

import math
from dataclasses import dataclass

from spaces._rules import TASKS, power_of_two_rule


@dataclass(frozen=True)
class BaseModel:
    """A user's trained model whose layers up to its last hidden one become a frozen base.

    Args:
        path: The `.keras` file, absolute.
        input_shape: What one example is to it: (height, width, channels) or (steps, features).
        layers: How many layers (beyond its input) the base keeps, for the unfreeze range.
    """

    path: str
    input_shape: tuple[int, ...]
    layers: int


@dataclass(frozen=True)
class Problem:
    """The shape of a learning problem as the spaces and the model builder see it.

    Args:
        task: One of TASKS.
        n_inputs: Width of the preprocessed input.
        n_outputs: Width of the output layer (1 for regression and binary).
        min_abs_target: Smallest absolute target value, for regression; decides if MAPE is valid.
        target_center: Mean of the training targets, for regression (else 0).
        target_scale: Standard deviation of the training targets, for regression (else 1).
            The model builder uses both so that a regression network works on standardised
            values inside and still predicts in the target's own units.
        image_shape: Height, width and channels when the inputs are the pixels of images
            (row-major, channels last); None otherwise. Convolutional families need it.
        sequence_shape: Steps and features per step when the inputs are sequences
            (step-major); None otherwise. Recurrent families need it.
        base: A pre-trained model to transfer from, or None.
    """

    task: str
    n_inputs: int
    n_outputs: int
    min_abs_target: float | None = None
    target_center: float = 0.0
    target_scale: float = 1.0
    image_shape: tuple[int, int, int] | None = None
    sequence_shape: tuple[int, int] | None = None
    base: BaseModel | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, but got task={self.task!r}.")
        if self.n_inputs < 1 or self.n_outputs < 1:
            raise ValueError(
                f"n_inputs and n_outputs must be positive, but got "
                f"n_inputs={self.n_inputs}, n_outputs={self.n_outputs}."
            )
        if not (self.target_scale > 0 and math.isfinite(self.target_scale)):
            raise ValueError(f"target_scale must be positive, but got {self.target_scale}.")
        if self.image_shape is not None and math.prod(self.image_shape) != self.n_inputs:
            raise ValueError(
                f"image_shape {self.image_shape} must hold n_inputs={self.n_inputs} values."
            )
        if self.sequence_shape is not None and math.prod(self.sequence_shape) != self.n_inputs:
            raise ValueError(
                f"sequence_shape {self.sequence_shape} must hold n_inputs={self.n_inputs} values."
            )

    @property
    def n0(self) -> int:
        """The power-of-two rule's seed width for this problem."""
        return power_of_two_rule(self.n_inputs)
