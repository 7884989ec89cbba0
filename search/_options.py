"""Options that several commands share, each defined once with its default shown in --help.

Also the Keras backend: its names, and the choice of one, made before Keras loads.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from search.stores._names import DEFAULT_STORAGE, DEFAULT_TRACKING_URI
from spaces import ConfigError, check_choice

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


# Keras 3's backends, each with the command that installs its package (tune's extras). The
# default is also what a study or export made before backends were recorded trained on.
BACKEND_INSTALLS = {
    "tensorflow": "pip install -e .",
    "jax": "pip install -e '.[jax]'",
    "torch": "pip install -e '.[torch]'",
}
DEFAULT_BACKEND = "tensorflow"
BACKEND_ENV = "KERAS_BACKEND"


def backend_option(help_text: str) -> Callable[[F], F]:
    """--backend: the Keras backend; checked by `check_backend`, as a [study] key is."""
    return click.option("--backend", metavar="|".join(BACKEND_INSTALLS), help=help_text)


def choose_backend(
    given: str | None, env: str | None, fallbacks: Sequence[str | None]
) -> tuple[str, str | None]:
    """The backend a command uses, and a note where a flag overrides KERAS_BACKEND.

    Args:
        given: --backend, or the config file's; it wins.
        env: KERAS_BACKEND as the user set it, before tune's own default.
        fallbacks: The rest, in order: `tune run` tries the study's backend, then `env`;
            `tune predict` tries `env`, then the export's training backend.

    Raises:
        ConfigError: The chosen name is not a backend, or its package is missing.
    """
    backend = given or next((name for name in fallbacks if name), DEFAULT_BACKEND)
    check_backend(backend)
    note = None
    if given and env and env != given:
        note = f"--backend {given} overrides {BACKEND_ENV}={env}"
    return backend, note


def check_backend(name: str) -> None:
    """Refuse an unknown backend, or one whose package is not installed, in one line."""
    check_choice("backend", name, BACKEND_INSTALLS)
    if importlib.util.find_spec(name) is None:
        raise ConfigError(
            f"the {name} backend needs the '{name}' package; install it with "
            f"{BACKEND_INSTALLS[name]}"
        )


def use_backend(name: str) -> None:
    """Make `name` the backend Keras loads with; call before anything imports Keras.

    A process that has loaded Keras already keeps its backend (search/run/_setup.py refuses
    a spec that asks for another), so the environment is left as it is there.
    """
    if "keras" not in sys.modules:
        os.environ[BACKEND_ENV] = name
