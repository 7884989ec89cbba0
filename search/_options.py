"""Options that several commands share, each defined once with its default shown in --help."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from search.stores._names import DEFAULT_STORAGE, DEFAULT_TRACKING_URI

F = TypeVar("F", bound=Callable[..., Any])

# The keys of search.view._tables.FORMATTERS, repeated so `tune --help` need not import Optuna.
FORMATS = ("table", "json", "csv")


# Environment variables that stand in for the store flags, so a URL with a password need not
# appear on the command line (the process list, the shell's history).
STORAGE_ENV = "TUNE_STORAGE"
TRACKING_ENV = "TUNE_TRACKING_URI"


def storage_option(command: F) -> F:
    """--storage: the Optuna storage URL, or $TUNE_STORAGE."""
    return click.option(
        "--storage",
        envvar=STORAGE_ENV,
        show_envvar=True,
        help=f"Optuna storage URL. Default: {DEFAULT_STORAGE}",
    )(command)


def tracking_option(command: F) -> F:
    """--tracking-uri: the MLflow tracking URI, or $TUNE_TRACKING_URI."""
    return click.option(
        "--tracking-uri",
        envvar=TRACKING_ENV,
        show_envvar=True,
        help=f"MLflow tracking URI. Default: {DEFAULT_TRACKING_URI}",
    )(command)


def store_options(command: F) -> F:
    """--storage and --tracking-uri, in that order in --help."""
    return storage_option(tracking_option(command))


def format_option(command: F) -> F:
    """--format: how a result is printed."""
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
    )(command)


def store_urls(storage: str | None, tracking_uri: str | None) -> tuple[str, str]:
    """The stores a command uses: the flags, else the defaults under mlruns/."""
    return storage or DEFAULT_STORAGE, tracking_uri or DEFAULT_TRACKING_URI
