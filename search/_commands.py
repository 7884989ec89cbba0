"""Inspection and shipping commands: ui, dashboard, studies, trials, best, report, export, predict.

Each command parses its options, calls the library and echoes; errors are raised as
TuneError and printed by `search.cli.main`. Libraries load inside the commands, so that
`tune --help` stays fast.
"""

from __future__ import annotations

import logging
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from search._options import (
    DEFAULT_BACKEND,
    backend_option,
    check_backend,
    choose_backend,
    format_option,
    storage_option,
    store_options,
    store_urls,
    tracking_option,
    use_backend,
)
from spaces import TuneError

if TYPE_CHECKING:
    import optuna


def _urls(storage: str | None, tracking_uri: str | None) -> tuple[str, str]:
    _quiet_mlflow()
    return store_urls(storage, tracking_uri)


def _quiet_mlflow() -> None:
    # MLflow draws download progress bars and logs store migrations on stderr.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _study(name: str, storage: str) -> optuna.Study:
    from search.stores._lookup import load_study, open_existing

    return load_study(open_existing(storage), name, storage)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=5000, show_default=True)
@click.option("--open", "open_browser", is_flag=True, help="Open the study's runs in a browser.")
@click.option("--study", help="Link (and --open) only this study.")
@tracking_option
def ui(
    host: str, port: int, open_browser: bool, study: str | None, tracking_uri: str | None
) -> None:
    """Start the MLflow UI on the store that `tune run` writes."""
    from search.view._ui import plan_ui, serve

    _, tracking = _urls(None, tracking_uri)
    plan = plan_ui(tracking, host, port, study)
    for warning in plan.warnings:
        click.echo(f"warning: {warning}", err=True)
    running = plan.command is None
    click.echo(
        f"MLflow UI: {plan.url}   " + ("(the tracking server)" if running else "(Ctrl-C stops it)")
    )
    for name, link in plan.links.items():
        click.echo(f"  study {name}: {link}")
    code = serve(plan, open_browser)
    if code != 0:
        raise TuneError(f"the MLflow server stopped with exit code {code}; see its messages above.")


@click.command()
@click.argument("study")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8089, show_default=True)
@storage_option
def dashboard(study: str, host: str, port: int, storage: str | None) -> None:
    """Start optuna-dashboard on the study store, with a link to STUDY.

    Needs the dashboard extra: pip install -e '.[dashboard]'.
    """
    from search.view._dashboard import plan_dashboard, serve_dashboard

    storage, _ = store_urls(storage, None)
    plan = plan_dashboard(storage, study, host, port)
    for warning in plan.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"optuna-dashboard: {plan.url}   (Ctrl-C stops it)")
    click.echo(f"  study {study}: {plan.link}")
    code = serve_dashboard(plan)
    if code != 0:
        raise TuneError(f"optuna-dashboard stopped with exit code {code}; see its messages above.")


@click.command()
@store_options
@format_option
def studies(storage: str | None, tracking_uri: str | None, fmt: str) -> None:
    """List the stored studies."""
    from search.view._tables import render, study_rows

    click.echo(render(study_rows(*_urls(storage, tracking_uri)), fmt))


@click.command()
@click.argument("study")
@store_options
@format_option
def trials(study: str, storage: str | None, tracking_uri: str | None, fmt: str) -> None:
    """Show a study's trials: number, state, value, duration and parameters."""
    from search.view._tables import render, trial_rows

    storage, tracking = _urls(storage, tracking_uri)
    click.echo(render(trial_rows(_study(study, storage), tracking), fmt))


@click.command()
@click.argument("study")
@store_options
@format_option
def best(study: str, storage: str | None, tracking_uri: str | None, fmt: str) -> None:
    """Show a study's best trial, with its test score and the baseline."""
    from search.view._tables import best_record, render_one

    storage, tracking = _urls(storage, tracking_uri)
    click.echo(render_one(best_record(_study(study, storage), tracking), fmt))


@click.command()
@click.argument("study")
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("report.html"), show_default=True
)
@click.option("--log", is_flag=True, help="Also attach the plots to the study's latest MLflow run.")
@store_options
def report(study: str, out: Path, log: bool, storage: str | None, tracking_uri: str | None) -> None:
    """Write a self-contained HTML report of a study's plots."""
    from search.stores._lookup import require_best
    from search.view._report import write_report

    storage, tracking = _urls(storage, tracking_uri)
    loaded = _study(study, storage)
    require_best(loaded)
    notes = write_report(loaded, out)
    click.echo(f"Wrote {out}")
    if log:
        run_id, notes = _log_plots(loaded, tracking)
        click.echo(f"Logged the plots to run {run_id} (artifacts: plots/)")
    for note in notes:
        click.echo(f"note: {note}")


def _log_plots(study: optuna.Study, tracking: str) -> tuple[str, list[str]]:
    from search.stores._lookup import latest_parent_run
    from search.stores._tracking import tracking_client
    from search.view._report import log_report

    parent = latest_parent_run(study.study_name, tracking)
    client = tracking_client(tracking)
    if parent is None or client is None:
        raise TuneError(
            f"study '{study.study_name}' has no finished MLflow run to attach the plots to."
        )
    return parent.info.run_id, log_report(study, client, parent.info.run_id)


@click.command()
@click.argument("study")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Export folder.")
@click.option("--register", "register", help="Register in the Model Registry; alias champion.")
@click.option("--refit", is_flag=True, help="Retrain the best parameters on train+validation.")
@click.option("--force", is_flag=True, help="Replace an earlier export in --out.")
@store_options
def export(
    study: str, out: Path, storage: str | None, tracking_uri: str | None, **flags: Any
) -> None:
    """Export the best trial's model: model.keras, a TF SavedModel and tune.json."""
    from search._quiet import load_quietly
    from search.stores._lookup import peek_study_attrs

    storage, tracking = _urls(storage, tracking_uri)
    # The study's own backend: a --refit then trains as its trials did.
    attrs = peek_study_attrs(storage, study) or {}
    backend = str(attrs.get("backend", DEFAULT_BACKEND))
    check_backend(backend)
    use_backend(backend)
    load_quietly()
    from search.ship._export import ExportRequest, describe
    from search.ship._export import export as run_export

    done = run_export(ExportRequest(study, out, storage, tracking, **flags))
    click.echo(f"Exported trial #{done.meta['trial']} of '{study}' to {out}")
    saved = " saved_model/ (TF SavedModel)," if done.meta["saved_model"] else ""
    click.echo(f"  model.keras,{saved} tune.json (trained on {done.meta['backend']})")
    click.echo(f"  {describe(done.meta)}")
    if done.registered:
        click.echo(f"Registered {done.registered}")
    click.echo(f"Next: tune predict {shlex.quote(str(out))} --data FILE --out predictions.csv")


@click.command()
@click.argument("model")
@click.option(
    "--data", required=True, help="CSV, Parquet or .npz file of rows in the training format."
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, allow_dash=True),
    default="-",
    help="Predictions CSV; '-' (the default) writes it to standard output.",
)
@tracking_option
@backend_option(
    "Keras backend to load the model in. Default: $KERAS_BACKEND, else the one it trained on."
)
@click.pass_context
def predict(
    ctx: click.Context,
    model: str,
    data: str,
    out: Path,
    tracking_uri: str | None,
    backend: str | None,
) -> None:
    """Predict a file's rows with an export folder or models:/NAME@champion."""
    from search._quiet import load_quietly
    from search.ship._files import training_backend

    env = (ctx.obj or {}).get("env_backend")
    chosen, note = choose_backend(backend, env, (env, training_backend(model)))
    use_backend(chosen)
    if note:
        click.echo(f"note: {note}", err=True)
    load_quietly()
    from search.ship._predict import predict_file

    _, tracking = _urls(None, tracking_uri)
    to_stdout = str(out) == "-"
    rows, warnings = predict_file(model, data, None if to_stdout else out, tracking)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    # With the CSV on standard output, what is said goes to standard error.
    click.echo(
        f"Wrote {rows} prediction(s) to {'standard output' if to_stdout else out}", err=to_stdout
    )


COMMANDS: tuple[click.Command, ...] = (
    ui,
    dashboard,
    studies,
    trials,
    best,
    report,
    export,
    predict,
)
