"""The `tune` command line: a thin layer that fills a spec, calls the library, maps errors to exits."""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import click

from search._options import (
    BACKEND_ENV,
    backend_option,
    choose_backend,
    store_options,
    store_urls,
    use_backend,
)
from search._quiet import load_quietly, quiet_environment
from spaces import KEEP_EPOCHS, SPACES, TASKS, TuneError

SAMPLER_NAMES = ("tpe", "random", "cmaes", "gp", "qmc")
PRUNER_NAMES = ("median", "hyperband", "halving", "none")
METRIC_NAMES = ("accuracy", "auc", "f1", "rmse", "mae", "mape")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks and library warnings.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Hyper-parameter search for Keras models with Optuna, tracked in MLflow."""
    ctx.ensure_object(dict)["debug"] = debug
    if not debug:
        warnings.simplefilter("ignore")


@cli.command()
@click.option(
    "--data",
    help="Built-in dataset (breast_cancer, digits, wine, iris, diabetes); a CSV or Parquet "
    "file; an .npz file with arrays x and y; or a folder of images, one subfolder per class. "
    "Default: breast_cancer.",
)
@click.option(
    "--target",
    help="Target column; a comma-separated list means multi-label. Default: last column.",
)
@click.option("--task", type=click.Choice(TASKS), help="Override the inferred task.")
@click.option(
    "--space",
    type=click.Choice(["auto", *sorted(SPACES)]),
    help="Model family. Default: auto: rows dense, images cnn, sequences rnn (.npz x "
    "(N, T, F)); a rerun keeps the study's family.",
)
@click.option(
    "--base-model",
    help="Transfer learning: a .keras model whose layers up to its last hidden one become a "
    "frozen base under the searched head (images or sequences).",
)
@click.option("--study", help="Study name. Default: derived from the data.")
@store_options
@click.option(
    "--sampler",
    type=click.Choice(SAMPLER_NAMES),
    help="Default: tpe. gp needs PyTorch: pip install -e '.[gp]'.",
)
@click.option("--pruner", type=click.Choice(PRUNER_NAMES), help="Default: median.")
@click.option(
    "--metric", type=click.Choice(METRIC_NAMES), help="Default: accuracy, or rmse for regression."
)
@click.option("--trials", type=int, help="Trials to add in this run. Default: 20.")
@click.option("--timeout", type=float, help="Stop starting trials after this many seconds.")
@click.option("--seed", type=int, help="Seed of splits, sampler and weights. Default: 42.")
@click.option("--max-epochs", type=int, help="Cap the searched epoch range.")
@click.option("--workers", type=int, help="Worker processes on this machine. Default: 1.")
@click.option(
    "--max-failures", type=int, help="Stop after this many failed trials in a row. Default: 10."
)
@click.option(
    "--cv",
    callback=lambda ctx, param, value: _folds(value),
    help="Folds per trial: K (each trial trains K models; its value is their mean), 1 for "
    "one validation split, or auto. Works with --workers (folds stay in one trial). Default: 1.",
)
@click.option(
    "--keep-epoch",
    type=click.Choice(KEEP_EPOCHS),
    help="Which epoch's weights a trial keeps and is scored by: last, or best (the epoch that "
    "scored best on validation, as KerasTuner does; a refit trains that many epochs). "
    "Default: the study's on a rerun, else last.",
)
@click.option(
    "--refit/--no-refit",
    default=None,
    help="At the end, train the best configuration again on every row outside the test split, "
    "three times with different seeds, and ship their mean; --no-refit ships the best trial's "
    "own model (one split only: with --cv the refit always runs). Default: on.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="TOML study file ([study], [space]).",
)
@click.option(
    "--recycle-after", type=int, help="Replace a worker after this many trials. Default: 50."
)
@click.option("--max-rss-mb", type=float, help="Replace a worker above this memory. Default: 4096.")
@click.option(
    "--report/--no-report",
    default=None,
    help="Log the study's plots to its MLflow run at the end. Default: on.",
)
@backend_option(
    "Keras backend: tensorflow, jax or torch. Default: the study's on a rerun, else "
    f"${BACKEND_ENV}, else tensorflow. jax and torch: pip install -e '.[jax]' or '.[torch]'."
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def run(ctx: click.Context, config_path: Path | None, quiet: bool, **flags: Any) -> None:
    """Search Keras models for a dataset; every trial is logged to MLflow."""
    from search.run._spec import build_spec, read_settings, stored_backend

    # The backend is settled before Keras loads: it reads KERAS_BACKEND once, on import.
    settings = read_settings(flags, config_path)
    env = ctx.obj.get("env_backend")
    backend, note = choose_backend(settings.get("backend"), env, (stored_backend(settings), env))
    use_backend(backend)
    from search.run._helpers import started_helpers
    from search.run._interrupts import remembering_ctrl_c

    # Helper processes load Keras while this one does; see search/run/_helpers.py. A Ctrl-C
    # that a library swallows while everything loads still stops the run at its first trial.
    with (
        remembering_ctrl_c(),
        started_helpers(backend, settings.get("workers")) as helpers,
        _head_start(settings),
    ):
        load_quietly()
        from search.run._runner import run as run_study
        from search.run._summary import format_summary

        if note:
            click.echo(f"Note: {note}")
        spec = build_spec({**flags, "backend": backend}, config_path)
        result = run_study(
            spec, show_progress=not quiet, announce=lambda line: click.echo(line), helpers=helpers
        )
    click.echo(format_summary(result))


def _head_start(settings: dict[str, Any]) -> AbstractContextManager[None]:
    """With one worker, the writer process starts now and prepares what it can while Keras
    loads (see search/stores/_ahead.py); with several, each writes its own records."""
    from search.stores._ahead import head_start

    if settings.get("workers") not in (None, 1):
        return nullcontext()
    return head_start(store_urls(settings.get("storage"), settings.get("tracking_uri"))[1])


def _folds(value: str | None) -> int | str | None:
    """--cv as a number of folds, or 'auto'; the spec checks the range."""
    if value is None or value == "auto":
        return value
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"must be a whole number or 'auto', but got {value!r}.") from None


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and turn errors into one line and an exit code."""
    env_backend = os.environ.get(BACKEND_ENV)  # as the user set it, before tune's default
    quiet_environment()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:  # accept --debug anywhere on the line, not only before the command
        args = ["--debug", *(a for a in args if a != "--debug")]
    try:
        cli.main(
            args=args, prog_name="tune", standalone_mode=False, obj={"env_backend": env_backend}
        )
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.UsageError as exc:  # a wrong flag or value: one line, like every other error
        hint = f" (see tune {exc.ctx.info_name} --help)" if exc.ctx and exc.ctx.parent else ""
        return _fail(exc.format_message() + hint, exc.exit_code, debug)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        click.echo("aborted.", err=True)
        return 130
    except TuneError as exc:
        return _fail(str(exc), exc.exit_code, debug)
    except KeyboardInterrupt:
        return _fail("interrupted.", 130, debug)
    except Exception as exc:  # a bug or an unforeseen library error: still one line
        return _fail(f"unexpected {type(exc).__name__}: {exc} (rerun with --debug)", 1, debug)
    return 0


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    lines = message.strip().splitlines()
    click.echo(f"error: {lines[0] if lines else 'failed'}", err=True)
    return code


# Inspection and shipping: tune ui, studies, trials, best, report, export, predict.
from search._commands import COMMANDS  # noqa: E402

for _command in COMMANDS:
    cli.add_command(_command)


if __name__ == "__main__":
    sys.exit(main())
