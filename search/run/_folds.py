"""How a run scores its trials: one validation split, or K folds, and why.

`--cv auto` cross-validates where the rows outside the test split are few: there a single
validation split is a few dozen rows, and a search of dozens of trials finds the
configuration that got lucky on them. The threshold comes from bench/small_data.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from objectives import PreparedData
from objectives._folds import plan_folds
from search.run._spec import AUTO

AUTO_FOLDS = 5
AUTO_MAX_ROWS = 500


@dataclass(frozen=True)
class Validation:
    """The folds a study's trials use (1: the single validation split) and why."""

    k: int
    reason: str
    note: str | None = None

    @property
    def crossed(self) -> bool:
        """Whether trials cross-validate."""
        return self.k > 1

    def describe(self) -> str:
        """One line for the terminal and the study's run."""
        kind = f"{self.k}-fold cross-validation" if self.crossed else "one validation split"
        return f"{kind} ({self.reason})"


def plan_validation(cv: int | str, data: PreparedData) -> Validation:
    """Resolve --cv against the data.

    Raises:
        ConfigError: K is above the number of rows outside the test split.
    """
    rows = len(data.rest)
    if cv == AUTO:
        few = rows < AUTO_MAX_ROWS
        requested = AUTO_FOLDS if few else 1
        side = "fewer than" if few else "at least"
        reason = f"auto: {rows} rows outside the test split, {side} {AUTO_MAX_ROWS}"
    else:
        requested = int(cv)
        reason = "--cv" if requested > 1 else "the default; --cv K cross-validates"
    plan = plan_folds(data, requested)
    return Validation(plan.k, reason, plan.note)
