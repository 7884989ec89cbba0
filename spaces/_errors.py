"""The small exception tree shared by all three packages; the CLI maps it to exit codes."""

from __future__ import annotations


class TuneError(Exception):
    """Base of every error that `tune` reports as one line rather than a traceback."""

    exit_code = 1


class ConfigError(TuneError):
    """A flag, a config file or a name is wrong: the user must change the command."""

    exit_code = 2


class DataError(TuneError):
    """The data cannot be used as given: the user must change the data or the target."""

    exit_code = 1


class StoreError(TuneError):
    """A store failed during the study (MLflow could not record a trial): the study stops."""


class TrialFailed(TuneError):
    """One trial cannot go on (NaN loss, impossible parameters); the study continues."""


def check_choice(kind: str, name: str, valid: object) -> None:
    """Raise a ConfigError naming every valid choice when `name` is not one of them."""
    names = sorted(valid)  # type: ignore[call-overload]
    if name not in names:
        raise ConfigError(f"'{name}' is not a valid {kind}. Use one of: {', '.join(names)}.")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none.

    Library errors often carry a traceback or a SQL statement below their first line; one
    line is what a user is shown.
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
