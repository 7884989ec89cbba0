"""The text a finished `tune run` prints."""

from __future__ import annotations

import shlex
from typing import Any

from search.run._runner import RunResult
from search.stores._names import DEFAULT_STORAGE, DEFAULT_TRACKING_URI


def format_summary(result: RunResult) -> str:
    """A short report: trial counts, best versus baseline, test score and next commands."""
    counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(result.states.items()))
    lines = [f"Study '{result.study_name}': {sum(result.states.values())} trials ({counts})"]
    if result.best is None:
        lines.append("No trial completed, so there is no best model yet.")
        return "\n".join(lines)
    lines.append(
        f"Best trial #{result.best['number']}: {result.metric} = {result.best['value']:.4f}"
    )
    lines.append("  " + format_params(result.best["params"]))
    lines.append(_baseline_line(result))
    if result.test_score is not None:
        lines.append(f"Test {result.metric} of the best model: {result.test_score:.4f}")
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
        f"{baseline['value']:.4f}; best improves on it by {gain:+.4f}"
    )


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
