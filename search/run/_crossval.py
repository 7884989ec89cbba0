"""A trial scored over K folds: one model per fold, the mean as the trial's value.

After fold k the trial reports the mean of folds 0..k as step k, so every trial's steps
mean the same thing and Optuna's pruners compare like with like; nothing is reported per
epoch. With K models a trial has no single model of its own: the model users get is the
refit of the best configuration on every row outside the test split (search/run/_refit.py).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import optuna
from mlflow.entities import Metric as LoggedMetric

from objectives import Metric, build_model, train_model
from objectives._folds import Fold
from search.run._pruning import PruneCheck
from search.stores._names import FOLD_SCORES_ATTR, KEPT_EPOCHS_ATTR
from spaces import SpaceFamily, TrialFailed


class CrossValidation:
    """Fits a trial's parameters on each fold; keeps the scores and the time spent fitting."""

    def __init__(
        self, folds: list[Fold], family: SpaceFamily, metric: Metric, keep: str = "last"
    ) -> None:
        self.folds = folds
        self.family = family
        self.metric = metric
        self.keep = keep
        self.scores: list[float] = []
        self.kept: list[int] = []
        self.fit_s = 0.0

    def score(
        self, trial: optuna.Trial, params: dict[str, Any], reset: Callable[[bool], None]
    ) -> tuple[float, int]:
        """The trial's mean fold score and its first model's size.

        Args:
            reset: Resets Keras and seeds it before a model; given whether it is the first.

        Raises:
            optuna.TrialPruned: The pruner stopped the trial after a fold.
            TrialFailed: A fold's score is not finite.
        """
        self.scores, self.kept, self.fit_s = [], [], 0.0
        n_params, check = 0, PruneCheck(trial)
        for k, fold in enumerate(self.folds):
            reset(k == 0)
            value, size = self._fit(fold, params)
            n_params = n_params or size
            self.scores.append(value)
            trial.set_user_attr(FOLD_SCORES_ATTR, self.scores)
            check.report(statistics.fmean(self.scores), step=k)
            if check.should_prune():
                raise optuna.TrialPruned(f"pruned after fold {k}")
        trial.set_user_attr(KEPT_EPOCHS_ATTR, self.kept_epochs)
        return statistics.fmean(self.scores), n_params

    @property
    def kept_epochs(self) -> int:
        """The epochs a refit trains for: as long as the folds' kept weights trained, on
        average (a refit trains one model)."""
        return round(statistics.fmean(self.kept)) if self.kept else 0

    def records(self) -> list[LoggedMetric]:
        """The fold scores for the trial's run: `fold_score` by step, `fold_k`, `value_std`."""
        stamp = int(time.time() * 1000)
        records = [LoggedMetric("fold_score", v, stamp, k) for k, v in enumerate(self.scores)]
        records += [LoggedMetric(f"fold_{k}", v, stamp, 0) for k, v in enumerate(self.scores)]
        if len(self.scores) > 1:
            records.append(LoggedMetric("value_std", statistics.pstdev(self.scores), stamp, 0))
        return records

    def _fit(self, fold: Fold, params: dict[str, Any]) -> tuple[float, int]:
        model = build_model(params, fold.problem, family=self.family.builder)
        started = time.perf_counter()
        try:
            trained = train_model(
                model,
                fold.splits,
                params,
                metric=self.metric,
                task=fold.problem.task,
                keep=self.keep,
            )
        finally:
            self.fit_s += time.perf_counter() - started
        self.kept.append(trained.kept + 1)
        value = trained.at_kept(f"val_{self.metric.name}")
        if not math.isfinite(value):
            raise TrialFailed(f"the {self.metric.name} on a fold's validation rows is {value}")
        return value, int(model.count_params())
