"""`tune export`: the study's model as model.keras, a TF SavedModel and tune.json.

The model is the one a run logged (the best trial's own, or a cross-validated study's refit;
see search/ship/_shipment.py), so the exported weights are those whose score was recorded;
the export replays the study's splits and checks that score before it writes.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import keras
import optuna
import pandas as pd

from objectives import (
    Metric,
    PreparedData,
    get_metric,
    load_base,
    prepare,
    score,
)
from search._options import DEFAULT_BACKEND
from search.ship._files import META_FILE, MODEL_FILE, SAVED_MODEL_DIR
from search.ship._saved_model import tensorflow_installed, write_saved_model
from search.ship._shipment import Shipment, choose
from search.stores._lookup import (
    load_study,
    open_existing,
    real_params,
    refit_mean,
    require_best,
)
from search.stores._names import RUN_ID_ATTR
from search.stores._storage import mask_text
from search.stores._tracking import tracking_client
from spaces import ConfigError, DataError, TuneError, first_line, get_space

# The exported model must score what its trial logged; anything beyond float noise means
# the data or the preprocessing changed since the study ran.
SCORE_TOLERANCE = 1e-6
FORMAT = "tune-export/1"
_VERSIONS = (
    "tune", "keras", "tensorflow", "tensorflow-cpu", "jax", "torch", "optuna", "mlflow",
    "numpy", "pandas",
)  # fmt: skip


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
    shipment = choose(study, best, data, metric, request.tracking_uri, request.refit)
    meta = _write(request.out, shipment, study, data, metric)
    registered = None
    if request.register:
        registered = _register(request, study, meta, data.example)
    return Exported(request.out, meta, registered)


def describe(meta: dict[str, Any]) -> str:
    """One line on what was exported and how it scores, from its tune.json."""
    metric, refit = meta["metric"], meta["refit_of"]
    name = metric["name"]
    test = f"test {name} {metric['test']:.4f}"
    if refit is None:
        return f"validation {name} {metric['validation']:.4f} (logged {metric['trial_value']:.4f}); {test}"
    if metric["validation"] is not None:  # retrained by `export --refit`, validation in-sample
        return f"validation {name} {metric['validation']:.4f} (in-sample after --refit); {test}"
    searched = (
        f"{refit['cv']}-fold cross-validation {name}" if refit["cv"] > 1 else f"validation {name}"
    )
    return (
        f"refit of trial #{refit['trial']} on {refit['rows']} rows{refit_mean(refit)} ({searched} "
        f"{metric['trial_value']:.4f}); {test} (as logged)"
    )


def replay_data(study: optuna.Study) -> PreparedData:
    """The study's data, split and preprocessed exactly as when the study ran, read the way its
    family reads it (studies made before families chose a reading were dense)."""
    attrs = study.user_attrs
    source = str(attrs["data"])
    layout = get_space(str(attrs.get("space", "dense"))).layout
    base = load_base(str(attrs["base_model"])) if attrs.get("base_model") else None
    seed = int(attrs.get("seed", 0))
    try:
        data = prepare(source, attrs.get("target"), attrs.get("task"), seed, layout, base)
    except DataError as exc:
        raise DataError(f"cannot reload the study's data '{source}': {exc}") from exc
    stored = json.loads(attrs["schema"])["preprocessor"]
    if _plain(data.preprocessor.to_dict()) != _plain(stored):
        raise DataError(
            f"the data at '{source}' no longer matches study '{study.study_name}' (its "
            "preprocessing differs); restore the file the study ran on, or use --refit."
        )
    return data


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
    shipment: Shipment,
    study: optuna.Study,
    data: PreparedData,
    metric: Metric,
) -> dict[str, Any]:
    # Everything goes to a sibling folder first, so a failed export leaves --out untouched.
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shipment.model.save(stage / MODEL_FILE)
        # Score the weights as written, reloaded the way `tune predict` will load them.
        exported = keras.saving.load_model(stage / MODEL_FILE, safe_mode=True)
        scores = _scores(exported, shipment, metric, data.problem.task)
        saved_model = tensorflow_installed()
        if saved_model:
            write_saved_model(exported, stage / MODEL_FILE, stage / SAVED_MODEL_DIR)
        meta = _meta(study, data, metric, scores, shipment)
        meta["saved_model"] = SAVED_MODEL_DIR if saved_model else None
        (stage / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        stage.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return meta


def _scores(
    model: keras.Model, shipment: Shipment, metric: Metric, task: str
) -> dict[str, float | None]:
    splits = shipment.splits
    scores: dict[str, float | None] = {
        "validation": score(model, splits.x_val, splits.y_val, metric, task)
        if len(splits.x_val)
        else None,
        "test": score(model, splits.x_test, splits.y_test, metric, task),
        "trial_value": float(shipment.trial.value),  # type: ignore[arg-type]
    }
    if shipment.checked_split is not None and shipment.logged is not None:
        now = scores[shipment.checked_split]
        assert now is not None  # the checked split has rows
        if abs(now - shipment.logged) > SCORE_TOLERANCE:
            raise TuneError(
                f"the exported model scores {metric.name}={now:.6f} on "
                f"{shipment.checked_split}, but {metric.name}={shipment.logged:.6f} was logged; "
                "the data or preprocessing changed, so nothing was written."
            )
    return scores


def _meta(
    study: optuna.Study,
    data: PreparedData,
    metric: Metric,
    scores: dict[str, float | None],
    shipment: Shipment,
) -> dict[str, Any]:
    schema = json.loads(study.user_attrs["schema"])
    trial = shipment.trial
    return {
        "format": FORMAT,
        "study": study.study_name,
        "trial": trial.number,
        "refit": shipment.refit_of is not None,
        "refit_of": shipment.refit_of,
        "source_model_uri": shipment.model_uri,
        "source_run_id": trial.user_attrs.get(RUN_ID_ATTR),
        "task": data.problem.task,
        "target": schema["target"],
        "classes": schema["classes"],
        "inputs": shipment.preprocessor.schema(),
        "preprocessor": shipment.preprocessor.to_dict(),
        "metric": {"name": metric.name, "direction": metric.direction, **scores},
        "params": real_params(trial),
        "data": {"source": study.user_attrs["data"], "seed": study.user_attrs.get("seed")},
        # The backend that trained the model; `tune predict` loads it there by default.
        "backend": study.user_attrs.get("backend", DEFAULT_BACKEND),
        "versions": _versions(),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _register(
    request: ExportRequest,
    study: optuna.Study,
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
        "tune.trial": str(meta["trial"]),
        "tune.refit": str(meta["refit"]).lower(),
        **{
            f"{split}_{scores['name']}": f"{scores[split]:.6g}"
            for split in ("validation", "test")
            if scores[split] is not None
        },
    }
    source_run = meta["source_run_id"]
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
