"""Study callbacks that stop a search (or a worker) before things go badly wrong."""

from __future__ import annotations

import os

import optuna
import psutil
from optuna.trial import FrozenTrial, TrialState

from search.stores._names import FAIL_REASON_ATTR
from spaces import TuneError


class TooManyFailures(TuneError):
    """Trials kept failing in a row, so the search stopped."""


class FailureGuard:
    """Stops the study after `limit` failed trials in a row."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.streak = 0
        self.last_reason = ""

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.state != TrialState.FAIL:
            self.streak = 0
            return
        self.streak += 1
        self.last_reason = str(trial.user_attrs.get(FAIL_REASON_ATTR, "unknown"))
        if self.tripped:
            study.stop()

    @property
    def tripped(self) -> bool:
        """Whether the limit was reached."""
        return self.streak >= self.limit

    def check(self) -> None:
        """Raise if the guard stopped the study."""
        if self.tripped:
            raise TooManyFailures(
                f"{self.streak} trials failed in a row (last: {self.last_reason}); "
                "fix the space or data, or raise --max-failures."
            )


class MemoryGuard:
    """Stops a worker whose resident memory passed `limit_mb`, so the launcher replaces it."""

    def __init__(self, limit_mb: float) -> None:
        self.limit_mb = limit_mb
        self.process = psutil.Process(os.getpid())
        self.tripped = False

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if self.process.memory_info().rss / 2**20 > self.limit_mb:
            self.tripped = True
            study.stop()
