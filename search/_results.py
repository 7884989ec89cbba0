"""Results from the shell: open a stored study, list studies and trials, find the best trial.

Nothing here imports TensorFlow, so `tune studies` and `tune trials` answer in a second or two.
MLflow (a few seconds to import) is loaded only where its runs add something.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search._names import (
    BASELINE_ATTR,
    FAIL_REASON_ATTR,
    MODEL_URI_ATTR,
    PARAMS_ATTR,
    RUN_ID_ATTR,
)
from search._storage import mask_text, mask_url, open_storage, sqlite_path
from spaces import ConfigError, TuneError, check_choice

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run


def open_existing(storage_url: str) -> optuna.storages.BaseStorage:
    """An Optuna storage that must already exist: inspecting never creates a store.

    Raises:
        ConfigError: A SQLite store's file is missing, or the database cannot be opened.
    """
    path = sqlite_path(storage_url)
    if path is not None and not path.is_file():
        raise ConfigError(
            f"no study store at '{path}' yet; run `tune run` first, or pass --storage."
        )
    return open_storage(storage_url)


def load_study(storage: optuna.storages.BaseStorage, name: str, storage_url: str) -> optuna.Study:
    """A stored study by name; an unknown name lists the studies that exist."""
    names = sorted(optuna.get_all_study_names(storage))
    if name not in names:
        where = mask_url(storage_url)
        listed = ", ".join(names) if names else "none yet"
        raise ConfigError(f"unknown study '{name}'. Studies in {where}: {listed}.")
    return optuna.load_study(study_name=name, storage=storage)


def require_best(study: optuna.Study) -> FrozenTrial:
    """The best complete trial.

    Raises:
        TuneError: No trial of the study completed.
    """
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        states = _state_counts(study.get_trials(deepcopy=False)) or "no trials"
        raise TuneError(
            f"study '{study.study_name}' has no complete trial yet ({states}); "
            f"run `tune run --study {study.study_name}` with the study's data to add trials."
        )
    return study.best_trial


def real_params(trial: FrozenTrial) -> dict[str, Any]:
    """The parameters a model was built from (units_0=64), not the sampled ones (log2_units_0)."""
    return dict(trial.user_attrs.get(PARAMS_ATTR, trial.params))


def find_baseline(study: optuna.Study) -> FrozenTrial | None:
    """The enqueued textbook trial, if the study has one."""
    for trial in study.get_trials(deepcopy=False):
        if trial.user_attrs.get(BASELINE_ATTR):
            return trial
    return None


def study_rows(storage_url: str, tracking_uri: str) -> list[dict[str, Any]]:
    """One row per stored study: its objective, trial counts and best value."""
    storage = open_existing(storage_url)
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=True)
    experiments = _experiment_ids(tracking_uri) if summaries else {}
    rows = []
    for summary in sorted(summaries, key=lambda s: s.study_name):
        attrs = summary.user_attrs
        best = summary.best_trial
        rows.append(
            {
                "study": summary.study_name,
                "task": attrs.get("task"),
                "metric": attrs.get("metric"),
                "direction": summary.direction.name.lower(),
                "trials": summary.n_trials,
                "best_trial": best.number if best else None,
                "best_value": best.value if best else None,
                "data": attrs.get("data"),
                "experiment_id": experiments.get(summary.study_name),
            }
        )
    return rows


def trial_rows(study: optuna.Study, tracking_uri: str | None = None) -> list[dict[str, Any]]:
    """One row per trial: number, state, value, duration, parameters (and MLflow's n_params)."""
    sizes = _model_sizes(study.study_name, tracking_uri) if tracking_uri else {}
    rows = []
    for trial in study.get_trials(deepcopy=False):
        run_id = trial.user_attrs.get(RUN_ID_ATTR)
        rows.append(
            {
                "number": trial.number,
                "state": trial.state.name,
                "value": trial.value,
                "duration_s": trial.duration.total_seconds() if trial.duration else None,
                "baseline": bool(trial.user_attrs.get(BASELINE_ATTR, False)),
                "n_params": sizes.get(run_id) if run_id else None,
                "params": real_params(trial),
                "run_id": run_id,
                "fail_reason": trial.user_attrs.get(FAIL_REASON_ATTR),
            }
        )
    return rows


def best_record(study: optuna.Study, tracking_uri: str | None = None) -> dict[str, Any]:
    """The best trial, with its test score and the study's baseline when they are known."""
    best = require_best(study)
    baseline = find_baseline(study)
    metric = str(study.user_attrs.get("metric", "value"))
    record: dict[str, Any] = {
        "study": study.study_name,
        "trial": best.number,
        "metric": metric,
        "direction": study.direction.name.lower(),
        "value": best.value,
        "test_value": None,
        "baseline_value": baseline.value if baseline else None,
        "duration_s": best.duration.total_seconds() if best.duration else None,
        "run_id": best.user_attrs.get(RUN_ID_ATTR),
        "model_uri": best.user_attrs.get(MODEL_URI_ATTR),
        "params": real_params(best),
    }
    parent = latest_parent_run(study.study_name, tracking_uri) if tracking_uri else None
    if parent is not None and parent.data.tags.get("tune.best_trial") == str(best.number):
        record["test_value"] = parent.data.metrics.get(f"test_{metric}")
    return record


def tracking_client(tracking_uri: str) -> MlflowClient | None:
    """A client for an existing tracking store, or None where a SQLite store is missing."""
    path = sqlite_path(tracking_uri)
    if path is not None and not path.is_file():
        return None
    # Not search._tracking.connect: that module loads Keras, and this path must stay light.
    from mlflow import MlflowClient

    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        client.search_experiments(max_results=1)
    except Exception as exc:  # MLflow raises many types for unreachable or bad stores
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        reason = mask_text(text, tracking_uri)
        raise ConfigError(f"cannot open tracking store: {reason}. Check --tracking-uri.") from exc
    return client


def latest_parent_run(study_name: str, tracking_uri: str) -> Run | None:
    """The most recent finished `tune run` parent run of a study, if any."""
    client = tracking_client(tracking_uri)
    experiment = client.get_experiment_by_name(study_name) if client else None
    if client is None or experiment is None:
        return None
    runs = client.search_runs(
        [experiment.experiment_id],
        filter_string="tags.`tune.role` = 'study' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0] if runs else None


def _experiment_ids(tracking_uri: str) -> dict[str, str]:
    client = tracking_client(tracking_uri)
    if client is None:
        return {}
    return {e.name: str(e.experiment_id) for e in client.search_experiments()}


def _model_sizes(study_name: str, tracking_uri: str) -> dict[str, int]:
    client = tracking_client(tracking_uri)
    experiment = client.get_experiment_by_name(study_name) if client else None
    if client is None or experiment is None:
        return {}
    runs = client.search_runs(
        [experiment.experiment_id], filter_string="tags.`tune.role` = 'trial'", max_results=50000
    )
    return {
        run.info.run_id: int(run.data.metrics["n_params"])
        for run in runs
        if math.isfinite(run.data.metrics.get("n_params", math.nan))
    }


def _state_counts(trials: list[FrozenTrial]) -> str:
    counts: dict[str, int] = {}
    for trial in trials:
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))


# Columns a terminal table leaves out (too long to read there); json and csv keep them.
TABLE_HIDDEN = ("run_id", "model_uri", "fail_reason", "data")


def render(records: list[dict[str, Any]], fmt: str) -> str:
    """Records as a text table, a JSON list, or CSV with parameters as their own columns."""
    check_choice("format", fmt, FORMATTERS)
    return FORMATTERS[fmt](records)


def render_one(record: dict[str, Any], fmt: str) -> str:
    """One record: `key  value` lines for a table, a JSON object, or a one-row CSV."""
    check_choice("format", fmt, FORMATTERS)
    if fmt == "json":
        return json.dumps(record, indent=2, default=str)
    if fmt == "csv":
        return _csv([record])
    flat = _flatten(record)
    width = max(map(len, flat))
    return "\n".join(f"{key.ljust(width)}  {_cell(value)}" for key, value in flat.items())


def _table(records: list[dict[str, Any]]) -> str:
    flat = [{k: v for k, v in _flatten(r).items() if k not in TABLE_HIDDEN} for r in records]
    columns = _columns(flat)
    if not columns:
        return "(none)"
    cells = [[_cell(row.get(column)) for column in columns] for row in flat]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def _json(records: list[dict[str, Any]]) -> str:
    return json.dumps(records, indent=2, default=str)


def _csv(records: list[dict[str, Any]]) -> str:
    flat = [_flatten(r) for r in records]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_columns(flat), lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return buffer.getvalue().rstrip("\n")


FORMATTERS: dict[str, Callable[[list[dict[str, Any]]], str]] = {
    "table": _table,
    "json": _json,
    "csv": _csv,
}


def _flatten(record: dict[str, Any]) -> dict[str, Any]:
    # Parameters become columns of their own, so a table or a spreadsheet can sort by them.
    flat = {k: v for k, v in record.items() if k != "params"}
    flat.update({f"param.{k}" if k in flat else k: v for k, v in record.get("params", {}).items()})
    return flat


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)
