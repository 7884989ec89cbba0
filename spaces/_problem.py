"""What a search space needs to know of the data, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass

from spaces._rules import TASKS, power_of_two_rule


@dataclass(frozen=True)
class Problem:
    """The shape of a learning problem as the spaces and the model builder see it.

    Args:
        task: One of TASKS.
        n_inputs: Width of the preprocessed input.
        n_outputs: Width of the output layer (1 for regression and binary).
        min_abs_target: Smallest absolute target value, for regression; decides if MAPE is valid.
    """

    task: str
    n_inputs: int
    n_outputs: int
    min_abs_target: float | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, but got task={self.task!r}.")
        if self.n_inputs < 1 or self.n_outputs < 1:
            raise ValueError(
                f"n_inputs and n_outputs must be positive, but got "
                f"n_inputs={self.n_inputs}, n_outputs={self.n_outputs}."
            )

    @property
    def n0(self) -> int:
        """The power-of-two rule's seed width for this problem."""
        return power_of_two_rule(self.n_inputs)
