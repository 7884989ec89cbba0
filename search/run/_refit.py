"""The model users get: the study's best configuration, trained again on every row outside
the test split, scored once on the test split.

It runs at the end of each `tune run` (as Setup.refits says: by default always), in the main
process after its workers stopped, with the epochs the configuration was searched with. It
trains DRAWS draws of the configuration (objectives/_draws.py), the first with the seed its
trial had, and ships their mean output as one Keras model. One draw was not enough: on
regression a single refit scored worse than the best trial's own model, a draw chosen for
scoring best that a fresh draw does not repeat (bench/refit.md, bench/refit_draws.md); the
mean of three scored at least as well as what tune shipped before on all nine datasets
measured (bench/ensemble.md).

The model is logged on that run's parent run, and the study remembers the latest refit
(`REFIT_ATTR`), which `tune export` ships.

A refit has no validation rows left to catch a bad fit (one refit of iris scored 0.83 where
its trial scored 1.0 on the test split). So where the trial has a model of its own (one
split), the refit is kept only if it fits the rows outside the test split, which it trained
on, at least as well as the trial's model does (which trained on three quarters of them);
else the trial's model is what users get, and an older refit is forgotten. The test split
plays no part in that choice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from objectives import DRAWS, score, train_draws
from objectives._folds import Fold, refit_fold
from search.run._model_log import load_logged, log_model
from search.stores._lookup import trained_params
from search.stores._names import MODEL_URI_ATTR, REFIT_ATTR

if TYPE_CHECKING:
    import keras
    import optuna
    from optuna.trial import FrozenTrial

    from objectives import Metric, PreparedData, Splits
    from search.run._setup import Setup


@dataclass(frozen=True)
class Refit:
    """A refit model: which trial, on how many rows, where it is logged, its test score."""

    trial: int
    rows: int
    cv: int
    test: float
    model_uri: str
    run_id: str
    draws: int = DRAWS

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, as the study stores it."""
        return asdict(self)


@dataclass(frozen=True)
class Declined:
    """A refit not kept: it fit its own training rows worse than the trial's model did."""

    trial: int
    rows: int
    refit_fit: float
    own_fit: float

    def note(self, metric: str) -> str:
        """One line for the summary and the study's run."""
        return (
            f"the refit of trial #{self.trial} was not kept: on the {self.rows} rows outside "
            f"the test split, which it trained on, it scored {metric} {self.refit_fit:.4f} "
            f"against {self.own_fit:.4f} for the trial's own model, which ships instead"
        )


def refit_best(
    study: optuna.Study, setup: Setup, best: FrozenTrial, run_id: str
) -> Refit | Declined:
    """Retrain `best`'s parameters on every row outside the test split and log the model,
    unless it fits those rows worse than `best`'s own model."""
    model, fold = train_refit(setup.data, setup.family.builder, setup.spec.seed, best)
    splits = fold.splits
    task = fold.problem.task
    own = _own_fit(best, setup)
    if own is not None:
        fit = score(model, splits.x_train, splits.y_train, setup.metric, task)
        if not holds(fit, own, setup.metric.direction):
            study.set_user_attr(REFIT_ATTR, None)  # export ships the trial's model, as said
            return Declined(best.number, len(splits.x_train), fit, own)
    test = score(model, splits.x_test, splits.y_test, setup.metric, task)
    uri = log_model(run_id, model, splits.x_train[:5])
    refit = Refit(best.number, len(splits.x_train), setup.validation.k, test, uri, run_id)
    study.set_user_attr(REFIT_ATTR, refit.to_dict())
    return refit


def holds(refit_fit: float, own_fit: float, direction: str) -> bool:
    """Whether a refit fits its training rows at least as well as the trial's own model."""
    return refit_fit >= own_fit if direction == "maximize" else refit_fit <= own_fit


def _own_fit(best: FrozenTrial, setup: Setup) -> float | None:
    """How well the trial's own model fits the rows outside the test split (None with folds:
    a cross-validated trial has no model of its own)."""
    uri = best.user_attrs.get(MODEL_URI_ATTR)
    if uri is None:
        return None
    return rest_fit(load_logged(uri), setup.data.splits, setup.metric, setup.data.problem.task)


def rest_fit(model: keras.Model, splits: Splits, metric: Metric, task: str) -> float:
    """How well `model` fits every row outside the test split of `splits`."""
    x = np.concatenate([splits.x_train, splits.x_val])
    y = np.concatenate([splits.y_train, splits.y_val])
    return score(model, x, y, metric, task)


def train_refit(
    data: PreparedData, builder: str, seed: int, best: FrozenTrial, draws: int = DRAWS
) -> tuple[keras.Model, Fold]:
    """`best`'s configuration trained on the refit fold: the mean of `draws` draws, the
    first with the seed its trial had."""
    fold = refit_fold(data)
    params = trained_params(best)
    model = train_draws(params, fold.problem, fold.splits, builder, seed + best.number, draws)
    return model, fold
