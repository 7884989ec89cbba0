"""Which model an export ships, with the data view it is checked and described against.

- A study ships the refit its last `tune run` made and logged: the best configuration
  trained again on every row outside the test split, checked against the test score that
  run logged; its preprocessing is the refit's, fitted on those rows. A cross-validated
  study always has one.
- A single-split study whose best trial has no refit (`tune run --no-refit`, or a better
  trial found since) ships that trial's own model, checked against its validation score.
- `tune export --refit` retrains the best configuration now, on train+validation with the
  trial's preprocessing (validation is then in-sample, so nothing is checked).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from typing import Any

import keras
import numpy as np
import optuna
from optuna.trial import FrozenTrial

from objectives import DRAWS, Metric, PreparedData, Preprocessor, Splits, train_draws
from objectives._folds import refit_fold
from search.stores._lookup import refit_draws, trained_params
from search.stores._names import MODEL_URI_ATTR, REFIT_ATTR
from search.stores._storage import mask_text, mask_url
from search.stores._tracking import tracking_client
from spaces import ConfigError, TuneError, first_line, get_space


@dataclass(frozen=True)
class Shipment:
    """A model to export, the splits and preprocessing it belongs to, and what to check."""

    model: keras.Model
    trial: FrozenTrial  # whose configuration (and, unless refit, weights) is shipped
    model_uri: str | None  # where the model is logged in MLflow, if it is
    splits: Splits
    preprocessor: Preprocessor
    checked_split: str | None  # "validation" or "test": where the logged score must hold
    logged: float | None
    refit_of: dict[str, Any] | None = None  # trial, rows, cv, draws: set for a refit


def choose(
    study: optuna.Study,
    best: FrozenTrial,
    data: PreparedData,
    metric: Metric,
    tracking_uri: str,
    refit: bool,
) -> Shipment:
    """The shipment for a study: the refit its last `tune run` logged for its best trial,
    else the best trial's own model; `refit` retrains now instead."""
    crossed = int(study.user_attrs.get("cv", 1)) > 1
    made = study.user_attrs.get(REFIT_ATTR)
    if crossed or (not refit and made and made["trial"] == best.number):
        return _logged_refit(study, made, data, tracking_uri)
    if refit:
        model = retrain(study, best, data, metric)
        rows = len(data.splits.x_train) + len(data.splits.x_val)
        of = _refit_of(best.number, rows, 1, DRAWS)
        return Shipment(model, best, None, data.splits, data.preprocessor, None, None, of)
    uri = best.user_attrs.get(MODEL_URI_ATTR)
    model = load_logged_model(uri, best.number, tracking_uri)
    logged = float(best.value)  # type: ignore[arg-type]
    return Shipment(model, best, uri, data.splits, data.preprocessor, "validation", logged)


def _logged_refit(
    study: optuna.Study, made: dict[str, Any] | None, data: PreparedData, tracking_uri: str
) -> Shipment:
    if not made:
        raise TuneError(
            f"study '{study.study_name}' has no refit model yet: it is made at the end of "
            f"`tune run`; run `tune run --study {study.study_name}` with the study's data."
        )
    model = load_logged_model(made["model_uri"], made["trial"], tracking_uri)
    trial = next(t for t in study.get_trials(deepcopy=False) if t.number == made["trial"])
    fold = refit_fold(data)
    of = _refit_of(made["trial"], made["rows"], made["cv"], refit_draws(made))
    return Shipment(
        model, trial, made["model_uri"], fold.splits, fold.preprocessor, "test", made["test"], of
    )


def _refit_of(trial: int, rows: int, cv: int, draws: int) -> dict[str, Any]:
    return {"trial": trial, "rows": rows, "cv": cv, "draws": draws}


def load_logged_model(uri: str | None, trial: int, tracking_uri: str) -> keras.Model:
    """A model logged to MLflow for a trial (loaded in Keras safe mode)."""
    if uri is None:
        raise TuneError(f"best trial #{trial} has no logged model; rerun with --refit.")
    if tracking_client(tracking_uri) is None:
        raise ConfigError(f"no tracking store at '{mask_url(tracking_uri)}'; pass --tracking-uri.")
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)  # models:/m-<id> resolves through the tracking store
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return mlflow.keras.load_model(uri, dst_path=tmp, load_model_kwargs={"safe_mode": True})
        except Exception as exc:  # a missing artifact, or a file Keras cannot read
            reason = mask_text(first_line(exc), tracking_uri)
            raise TuneError(f"cannot load trial #{trial}'s model {uri}: {reason}") from exc


def retrain(
    study: optuna.Study, best: FrozenTrial, data: PreparedData, metric: Metric
) -> keras.Model:
    """Train the best parameters again on train+validation (validation is then in-sample),
    as a run's refit does: the mean of DRAWS draws, the first with the trial's seed."""
    family = get_space(str(study.user_attrs.get("space", "dense")))
    splits = data.splits
    joined = replace(
        splits,
        x_train=np.concatenate([splits.x_train, splits.x_val]),
        y_train=np.concatenate([splits.y_train, splits.y_val]),
    )
    seed = int(study.user_attrs.get("seed", 0)) + best.number
    params = trained_params(best)
    return train_draws(params, data.problem, joined, family.builder, seed, metric=metric)
