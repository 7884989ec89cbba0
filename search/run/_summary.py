"""The text a finished `tune run` prints."""

from __future__ import annotations

import shlex
from typing import Any

from search.run._runner import RunResult
from search.stores._lookup import refit_mean
from search.stores._names import DEFAULT_STORAGE, DEFAULT_TRACKING_URI


def format_summary(result: RunResult) -> str:
    """A short report: trial counts, best versus baseline, test score and next commands."""
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(result.states.items()))
    lines = [f"Study '{result.study_name}': {sum(result.states.values())} trials ({counts})"]
    if result.best is None:
        lines.append("No trial completed, so there is no best model yet.")
        return "\n".join(lines)
    best = result.best
    lines.append(f"Best trial #{best['number']}: {result.metric} = {_value(best)}")
    lines.append("  " + format_params(best["params"]))
    kept, epochs = best.get("kept_epochs"), best["params"].get("epochs")
    if kept and epochs and kept != epochs:
        lines.append(f"  kept epoch {kept} of {epochs}, the best on validation")
    lines.append(_baseline_line(result))
    if result.refit_declined:
        lines.append(f"Note: {result.refit_declined}.")
    if result.test_score is not None:
        lines.append(_test_line(result, result.test_score))
    lines.append("Next, inspect the trials in the MLflow UI and save the best model:")
    return "\n".join([*lines, *(f"  {shlex.join(words)}" for words in next_commands(result))])


def next_commands(result: RunResult) -> list[list[str]]:
    """`tune ui` on this run's store and `tune export` of its best model, as argv lists.

    They name the stores when they are not the defaults, so they work as printed (a
    password in a URL shows masked and has to be typed back).
    """
    tracking = _flag("--tracking-uri", result.tracking_uri, DEFAULT_TRACKING_URI)
    storage = _flag("--storage", result.storage, DEFAULT_STORAGE)
    out = f"exports/{result.study_name}"
    return [
        ["tune", "ui", *tracking],
        ["tune", "export", result.study_name, "--out", out, *storage, *tracking],
    ]


def _flag(name: str, value: str, default: str) -> list[str]:
    return [] if value == default else [name, value]


def format_params(params: dict[str, Any]) -> str:
    """Parameters as `key=value` pairs, floats shortened."""
    return " ".join(f"{k}={_short(v)}" for k, v in params.items())


def _baseline_line(result: RunResult) -> str:
    baseline = result.baseline
    if baseline is None or baseline["value"] is None:
        state = baseline["state"].lower() if baseline else "not run"
        return f"Baseline (textbook configuration): {state}"
    assert result.best is not None
    gain = result.best["value"] - baseline["value"]
    if result.direction == "minimize":
        gain = -gain
    return (
        f"Baseline trial #{baseline['number']} (textbook): {result.metric} = "
        f"{_value(baseline)}; best improves on it by {gain:+.4f}"
    )


def _value(trial: dict[str, Any]) -> str:
    """A trial's value; with folds, their mean with the spread over folds."""
    if trial.get("std") is None:
        return f"{trial['value']:.4f}"
    return f"{trial['value']:.4f} ± {trial['std']:.4f} over {trial['folds']} folds"


def _test_line(result: RunResult, test_score: float) -> str:
    refit = result.refit
    if refit is None:
        return f"Test {result.metric} of the best model: {test_score:.4f}"
    return (
        f"Test {result.metric} of the refit model (trial #{refit['trial']} retrained on "
        f"{refit['rows']} rows, every row outside the test split{refit_mean(refit)}): "
        f"{test_score:.4f}"
    )


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
