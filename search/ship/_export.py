"""`tune export`: the best trial's own model as model.keras, a TF SavedModel and tune.json.

The model is the one the best trial logged, so the exported weights are those whose score
was recorded; the export replays the study's splits and checks that score before it writes.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import keras
import numpy as np
import optuna
import pandas as pd
from optuna.trial import FrozenTrial

from objectives import (
    Metric,
    PreparedData,
    build_model,
    fresh_session,
    get_metric,
    prepare,
    score,
    train_model,
)
from search.ship._predict import META_FILE, MODEL_FILE, SAVED_MODEL_DIR
from search.stores._lookup import load_study, open_existing, real_params, require_best
from search.stores._names import MODEL_URI_ATTR, RUN_ID_ATTR
from search.stores._storage import mask_text, mask_url
from search.stores._tracking import tracking_client
from spaces import ConfigError, DataError, TuneError, first_line, get_space

# The exported model must score what its trial logged; anything beyond float noise means
# the data or the preprocessing changed since the study ran.
SCORE_TOLERANCE = 1e-6
FORMAT = "tune-export/1"
_VERSIONS = ("tune", "keras", "tensorflow", "tensorflow-cpu", "optuna", "mlflow", "numpy", "pandas")


@dataclass(frozen=True)
class ExportRequest:
    """What `tune export` was asked to do."""

    study: str
    out: Path
    storage: str
    tracking_uri: str
    register: str | None = None
    refit: bool = False
    force: bool = False


@dataclass(frozen=True)
class Exported:
    """What an export wrote, and the scores it checked."""

    folder: Path
    meta: dict[str, Any]
    registered: str | None = None


def export(request: ExportRequest) -> Exported:
    """Export the best trial of a study (see the module docstring).

    Raises:
        ConfigError: Unknown study, an existing --out without --force, a missing store.
        TuneError: No complete trial, or the model does not reproduce its logged score.
    """
    _check_out(request.out, request.force)
    study = load_study(open_existing(request.storage), request.study, request.storage)
    best = require_best(study)
    data = replay_data(study)
    metric = get_metric(str(study.user_attrs["metric"]), data.problem.task)
    if request.refit:
        model = refit(study, best, data, metric)
    else:
        model = load_trial_model(best, request.tracking_uri)
    meta = _write(request.out, model, study, best, data, metric, request.refit)
    registered = None
    if request.register:
        registered = _register(request, study, best, meta, data.example)
    return Exported(request.out, meta, registered)


def replay_data(study: optuna.Study) -> PreparedData:
    """The study's data, split and preprocessed exactly as when the study ran."""
    attrs = study.user_attrs
    source = str(attrs["data"])
    try:
        data = prepare(source, attrs.get("target"), attrs.get("task"), int(attrs.get("seed", 0)))
    except DataError as exc:
        raise DataError(f"cannot reload the study's data '{source}': {exc}") from exc
    stored = json.loads(attrs["schema"])["preprocessor"]
    if _plain(data.preprocessor.to_dict()) != _plain(stored):
        raise DataError(
            f"the data at '{source}' no longer matches study '{study.study_name}' (its "
            "preprocessing differs); restore the file the study ran on, or use --refit."
        )
    return data


def load_trial_model(best: FrozenTrial, tracking_uri: str) -> keras.Model:
    """The model the best trial logged to MLflow (loaded in Keras safe mode)."""
    uri = best.user_attrs.get(MODEL_URI_ATTR)
    if uri is None:
        raise TuneError(f"best trial #{best.number} has no logged model; rerun with --refit.")
    if tracking_client(tracking_uri) is None:
        raise ConfigError(f"no tracking store at '{mask_url(tracking_uri)}'; pass --tracking-uri.")
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)  # models:/m-<id> resolves through the tracking store
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return mlflow.keras.load_model(uri, dst_path=tmp, load_model_kwargs={"safe_mode": True})
        except Exception as exc:  # a missing artifact, or a file Keras cannot read
            reason = mask_text(first_line(exc), tracking_uri)
            raise TuneError(f"cannot load trial #{best.number}'s model {uri}: {reason}") from exc


def refit(
    study: optuna.Study, best: FrozenTrial, data: PreparedData, metric: Metric
) -> keras.Model:
    """Train the best parameters again on train+validation (validation is then in-sample)."""
    params = real_params(best)
    fresh_session(int(study.user_attrs.get("seed", 0)) + best.number)
    family = get_space(str(study.user_attrs.get("space", "dense")))
    model = build_model(params, data.problem, metric, family.builder)
    splits = data.splits
    joined = replace(
        splits,
        x_train=np.concatenate([splits.x_train, splits.x_val]),
        y_train=np.concatenate([splits.y_train, splits.y_val]),
    )
    train_model(model, joined, params)
    return model


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out '{out}' is a file; give a folder for the export.")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ConfigError(f"'{out}' already exists; pass --force to replace it.")
        if not (out / META_FILE).is_file():
            raise ConfigError(
                f"'{out}' is not an earlier export, so --force will not delete it; "
                "choose another --out."
            )


def _write(
    out: Path,
    model: keras.Model,
    study: optuna.Study,
    best: FrozenTrial,
    data: PreparedData,
    metric: Metric,
    refitted: bool,
) -> dict[str, Any]:
    # Everything goes to a sibling folder first, so a failed export leaves --out untouched.
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save(stage / MODEL_FILE)
        # Score the weights as written, reloaded the way `tune predict` will load them.
        exported = keras.saving.load_model(stage / MODEL_FILE, safe_mode=True)
        scores = _scores(exported, data, metric, best, refitted)
        exported.export(str(stage / SAVED_MODEL_DIR), verbose=False)
        meta = _meta(study, best, data, metric, scores, refitted)
        (stage / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        stage.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return meta


def _scores(
    model: keras.Model, data: PreparedData, metric: Metric, best: FrozenTrial, refitted: bool
) -> dict[str, float]:
    splits, task = data.splits, data.problem.task
    validation = score(model, splits.x_val, splits.y_val, metric, task)
    logged = float(best.value)  # type: ignore[arg-type]
    if not refitted and abs(validation - logged) > SCORE_TOLERANCE:
        raise TuneError(
            f"the exported model scores {metric.name}={validation:.6f} on validation, but trial "
            f"#{best.number} logged {logged:.6f}; the data or preprocessing changed, so nothing "
            "was written."
        )
    test = score(model, splits.x_test, splits.y_test, metric, task)
    return {"validation": validation, "test": test, "trial_value": logged}


def _meta(
    study: optuna.Study,
    best: FrozenTrial,
    data: PreparedData,
    metric: Metric,
    scores: dict[str, float],
    refitted: bool,
) -> dict[str, Any]:
    schema = json.loads(study.user_attrs["schema"])
    return {
        "format": FORMAT,
        "study": study.study_name,
        "trial": best.number,
        "refit": refitted,
        "source_model_uri": best.user_attrs.get(MODEL_URI_ATTR),
        "source_run_id": best.user_attrs.get(RUN_ID_ATTR),
        "task": data.problem.task,
        "target": schema["target"],
        "classes": schema["classes"],
        "inputs": schema["inputs"],
        "preprocessor": schema["preprocessor"],
        "metric": {"name": metric.name, "direction": metric.direction, **scores},
        "params": real_params(best),
        "data": {"source": study.user_attrs["data"], "seed": study.user_attrs.get("seed")},
        "versions": _versions(),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _register(
    request: ExportRequest,
    study: optuna.Study,
    best: FrozenTrial,
    meta: dict[str, Any],
    example: pd.DataFrame,
) -> str:
    from search.ship._pyfunc import register

    client = tracking_client(request.tracking_uri)
    experiment = client.get_experiment_by_name(study.study_name) if client else None
    if experiment is None:
        raise ConfigError(
            f"study '{study.study_name}' has no MLflow experiment in '{request.tracking_uri}'; "
            "pass the --tracking-uri that `tune run` used."
        )
    scores = meta["metric"]
    tags = {
        "tune.study": study.study_name,
        "tune.trial": str(best.number),
        "tune.refit": str(request.refit).lower(),
        f"validation_{scores['name']}": f"{scores['validation']:.6g}",
        f"test_{scores['name']}": f"{scores['test']:.6g}",
    }
    source_run = best.user_attrs.get(RUN_ID_ATTR)
    name = request.register or ""
    try:
        done = register(request.out, name, experiment.experiment_id, source_run, tags, example)
    except Exception as exc:  # MLflow's own types: a bad name, an unreachable registry
        reason = mask_text(first_line(exc), request.tracking_uri)
        raise TuneError(
            f"the export is in '{request.out}', but registering '{name}' failed: {reason}"
        ) from exc
    return f"{done.name} version {done.version} ({done.champion_uri})"


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in _VERSIONS:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return found


def _plain(value: Any) -> Any:
    # Tuples and lists compare unequal; the stored schema went through JSON.
    return json.loads(json.dumps(value))
