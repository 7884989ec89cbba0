"""Results as text: studies, trials and the best trial as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from typing import Any

import optuna

from search.stores._lookup import (
    find_baseline,
    fold_spread,
    latest_parent_run,
    open_existing,
    real_params,
    require_best,
)
from search.stores._names import (
    BASELINE_ATTR,
    FAIL_REASON_ATTR,
    KEPT_EPOCHS_ATTR,
    MODEL_URI_ATTR,
    REFIT_ATTR,
    RUN_ID_ATTR,
)
from search.stores._tracking import tracking_client
from spaces import check_choice


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
        "kept_epochs": best.user_attrs.get(KEPT_EPOCHS_ATTR),
    }
    spread = fold_spread(best)
    if spread is not None:  # cross-validated: the spread over folds
        record["value_std"] = spread
    refit = study.user_attrs.get(REFIT_ATTR) or {}
    if refit.get("trial") == best.number:  # the model users get is the refit
        record.update(model_uri=refit["model_uri"], refit_rows=refit["rows"])
    parent = latest_parent_run(study.study_name, tracking_uri) if tracking_uri else None
    if parent is not None and parent.data.tags.get("tune.best_trial") == str(best.number):
        record["test_value"] = parent.data.metrics.get(f"test_{metric}")
    return record


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
