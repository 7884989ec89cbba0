"""The progress bar: trials done out of the total, and the best value so far."""

from __future__ import annotations

import sys

import optuna
from optuna.trial import FrozenTrial, TrialState
from tqdm import tqdm


class Progress:
    """An Optuna callback that advances a bar on stderr, once per finished trial."""

    def __init__(self, total: int, metric: str, enabled: bool = True) -> None:
        self.bar = tqdm(
            total=total, unit="trial", desc="tune", file=sys.stderr, disable=not enabled, leave=True
        )
        self.metric = metric

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.advance(study, 1, trial)

    def advance(self, study: optuna.Study, n: int, trial: FrozenTrial | None = None) -> None:
        """Move the bar by `n` trials and show the best value."""
        best = _best_value(study)
        postfix = {f"best {self.metric}": f"{best:.4g}" if best is not None else "-"}
        if trial is not None and trial.state == TrialState.FAIL:
            postfix["last"] = "FAIL"
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.update(n)

    def close(self) -> None:
        """End the bar's line."""
        self.bar.close()


def _best_value(study: optuna.Study) -> float | None:
    try:
        return float(study.best_value)
    except ValueError:
        return None
