"""The model users get from a cross-validated study: its best configuration, trained once
more on every row outside the test split, scored once on the test split.

It runs at the end of each `tune run`, in the main process after its workers stopped, with
the epochs the configuration was searched with. The model is logged on that run's parent
run, and the study remembers the latest refit (`REFIT_ATTR`), which `tune export` ships.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from objectives import build_model, fresh_session, score, train_model
from objectives._folds import refit_fold
from search.run._model_log import log_model
from search.stores._lookup import real_params
from search.stores._names import REFIT_ATTR

if TYPE_CHECKING:
    import optuna
    from optuna.trial import FrozenTrial

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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, as the study stores it."""
        return asdict(self)


def refit_best(study: optuna.Study, setup: Setup, best: FrozenTrial, run_id: str) -> Refit:
    """Retrain `best`'s parameters on every row outside the test split and log the model."""
    params = real_params(best)
    fold = refit_fold(setup.data)
    fresh_session(setup.spec.seed + best.number)
    model = build_model(params, fold.problem, family=setup.family.builder)
    train_model(model, fold.splits, params)
    splits = fold.splits
    test = score(model, splits.x_test, splits.y_test, setup.metric, fold.problem.task)
    uri = log_model(run_id, model, splits.x_train[:5])
    refit = Refit(best.number, len(splits.x_train), setup.validation.k, test, uri, run_id)
    study.set_user_attr(REFIT_ATTR, refit.to_dict())
    return refit
