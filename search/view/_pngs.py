"""PNG versions of the report's plots, drawn with matplotlib from the study's trials."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import optuna

from search.stores._lookup import find_baseline

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100


def save(render: Callable[[optuna.Study], Figure], study: optuna.Study, path: Path) -> None:
    """Draw one plot and write it as a PNG file."""
    import matplotlib

    # Files only, never windows: a display-backed backend would fail on a headless machine.
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        # Optuna's matplotlib plots are marked experimental and warn on every call.
        warnings.simplefilter("ignore")
        figure = render(study)
        try:
            figure.savefig(path, dpi=DPI, bbox_inches="tight")
        finally:
            plt.close(figure)


def _figure(axes: Any) -> Figure:
    # Optuna returns one Axes, or an array of them for multi-panel plots.
    return np.atleast_1d(axes).ravel()[0].figure


def history(study: optuna.Study) -> Figure:
    """Optimization history."""
    return _figure(optuna.visualization.matplotlib.plot_optimization_history(study))


def importances(study: optuna.Study) -> Figure:
    """Parameter importances."""
    return _figure(optuna.visualization.matplotlib.plot_param_importances(study))


def parallel(study: optuna.Study) -> Figure:
    """Parallel coordinates."""
    return _figure(optuna.visualization.matplotlib.plot_parallel_coordinate(study))


def intermediate(study: optuna.Study) -> Figure:
    """Learning curves of every trial."""
    return _figure(optuna.visualization.matplotlib.plot_intermediate_values(study))


def slices(study: optuna.Study) -> Figure:
    """One slice panel per parameter."""
    return _figure(optuna.visualization.matplotlib.plot_slice(study))


def baseline_vs_best(study: optuna.Study) -> Figure:
    """The baseline's and the best trial's values, and their curves per epoch."""
    import matplotlib.pyplot as plt

    baseline, best = find_baseline(study), study.best_trial
    assert baseline is not None  # the report checks for a complete baseline first
    figure, (bars, curves) = plt.subplots(1, 2, figsize=(10, 4))
    names = [f"baseline #{baseline.number}", f"best #{best.number}"]
    values = [float(baseline.value or 0.0), float(best.value or 0.0)]
    bars.bar(names, values, color=["#999999", "#1f77b4"])
    for x, value in enumerate(values):
        bars.annotate(f"{value:.4g}", (x, value), ha="center", va="bottom")
    bars.set_title("final value")
    for name, trial in zip(names, (baseline, best), strict=True):
        steps = sorted(trial.intermediate_values)
        curves.plot(steps, [trial.intermediate_values[s] for s in steps], marker="o", label=name)
    curves.set_title("per epoch")
    curves.set_xlabel("epoch")
    curves.legend()
    figure.suptitle("Baseline (textbook configuration) versus best trial")
    return figure
