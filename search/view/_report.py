"""Plots of a study: Optuna's figures as one self-contained HTML report and as PNG files.

PNGs are drawn with matplotlib: plotly's own PNG export (kaleido 1.x) needs a Chrome
binary that it downloads on first use, which offline machines cannot do.
"""

from __future__ import annotations

import html
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.stores._lookup import find_baseline, fold_spread, real_params, refit_mean
from search.stores._names import FOLD_SCORES_ATTR, REFIT_ATTR
from search.view import _pngs

if TYPE_CHECKING:
    import plotly.graph_objects as go
    from matplotlib.figure import Figure
    from mlflow import MlflowClient

REPORT_NAME = "report.html"
PLOTS_FOLDER = "plots"


@dataclass(frozen=True)
class Plot:
    """One figure of the report: when it can be drawn, and how in plotly and in matplotlib."""

    title: str
    caption: str
    skip: Callable[[optuna.Study], str | None]  # why the figure cannot be drawn, or None
    plotly: Callable[[optuna.Study], go.Figure]
    png: Callable[[optuna.Study], Figure]


@dataclass(frozen=True)
class Drawn:
    """A plot of one study: its figure, or the reason it was skipped."""

    name: str
    plot: Plot
    figure: go.Figure | None
    note: str | None


def _complete(study: optuna.Study) -> list[FrozenTrial]:
    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def _needs_complete(study: optuna.Study) -> str | None:
    return None if _complete(study) else "no trial completed"


def _needs_variation(study: optuna.Study) -> str | None:
    complete = _complete(study)
    if len(complete) < 2:
        return f"needs 2 complete trials, the study has {len(complete)}"
    names = {name for trial in complete for name in trial.params}
    varied = [n for n in names if len({repr(t.params.get(n)) for t in complete}) > 1]
    return None if varied else "no parameter varies across the complete trials"


def _needs_curves(study: optuna.Study) -> str | None:
    trials = study.get_trials(deepcopy=False)
    return None if any(t.intermediate_values for t in trials) else "no trial reported epochs"


def _needs_baseline(study: optuna.Study) -> str | None:
    baseline = find_baseline(study)
    if baseline is None:
        return "the study has no baseline trial"
    if baseline.state != TrialState.COMPLETE:
        return f"the baseline trial #{baseline.number} is {baseline.state.name.lower()}"
    return _needs_complete(study)


def _importances(study: optuna.Study) -> go.Figure:
    return optuna.visualization.plot_param_importances(study)


def _baseline_vs_best(study: optuna.Study) -> go.Figure:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    baseline, best = find_baseline(study), study.best_trial
    assert baseline is not None  # _needs_baseline ran first
    figure = make_subplots(
        rows=1, cols=2, subplot_titles=("final value", "per step (epoch, or fold)")
    )
    names = [f"baseline #{baseline.number}", f"best #{best.number}"]
    values = [baseline.value, best.value]
    figure.add_trace(go.Bar(x=names, y=values, text=[f"{v:.4g}" for v in values]), 1, 1)
    for name, trial in zip(names, (baseline, best), strict=True):
        steps = sorted(trial.intermediate_values)
        curve = [trial.intermediate_values[s] for s in steps]
        figure.add_trace(go.Scatter(x=steps, y=curve, mode="lines+markers", name=name), 1, 2)
    figure.update_layout(title="Baseline (textbook configuration) versus best trial")
    return figure


PLOTS: dict[str, Plot] = {
    "history": Plot(
        "Optimization history",
        "Each trial's value, and the best so far.",
        _needs_complete,
        optuna.visualization.plot_optimization_history,
        _pngs.history,
    ),
    "importances": Plot(
        "Parameter importances",
        "How much of the value's variation each parameter explains.",
        _needs_variation,
        _importances,
        _pngs.importances,
    ),
    "parallel": Plot(
        "Parallel coordinates",
        "Every complete trial as one line through its parameters; widths show as log2_units_i "
        "(units = 2 ** value).",
        _needs_complete,
        optuna.visualization.plot_parallel_coordinate,
        _pngs.parallel,
    ),
    "intermediate": Plot(
        "Intermediate values",
        "The validation metric per epoch of every trial (learning curves; pruned ones stop early).",
        _needs_curves,
        optuna.visualization.plot_intermediate_values,
        _pngs.intermediate,
    ),
    "slice": Plot(
        "Slice plots",
        "The value against each parameter, one panel per parameter.",
        _needs_complete,
        optuna.visualization.plot_slice,
        _pngs.slices,
    ),
    "baseline_vs_best": Plot(
        "Baseline versus best",
        "The textbook configuration (trial 0) against the best trial found.",
        _needs_baseline,
        _baseline_vs_best,
        _pngs.baseline_vs_best,
    ),
}


def draw(study: optuna.Study) -> list[Drawn]:
    """Every plot of PLOTS that the study allows; the others carry the reason they were skipped."""
    drawn = []
    for name, plot in PLOTS.items():
        reason = plot.skip(study)
        if reason is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    drawn.append(Drawn(name, plot, plot.plotly(study), None))
                continue
            except Exception as exc:  # an odd study must not cost the other plots
                reason = f"{type(exc).__name__}: {exc}"
        drawn.append(Drawn(name, plot, None, f"{plot.title} skipped: {reason}"))
    return drawn


def report_html(study: optuna.Study, drawn: list[Drawn]) -> str:
    """One self-contained HTML page: a summary, then each figure (plotly.js inlined once)."""
    sections, inlined = [], False
    for item in drawn:
        body = f"<p class='note'>{html.escape(item.note or '')}</p>"
        if item.figure is not None:
            body = item.figure.to_html(full_html=False, include_plotlyjs=not inlined)
            inlined = True
        sections.append(
            f"<section id='{item.name}'><h2>{html.escape(item.plot.title)}</h2>"
            f"<p>{html.escape(item.plot.caption)}</p>{body}</section>"
        )
    title = f"tune report: {study.study_name}"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"{_summary(study)}{''.join(sections)}</body></html>"
    )


def write_report(study: optuna.Study, out: Path) -> list[str]:
    """Write the HTML report to `out`; returns a note for each plot that was skipped."""
    drawn = draw(study)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report_html(study, drawn), encoding="utf-8")
    return [item.note for item in drawn if item.note]


def write_plot_files(study: optuna.Study, folder: Path) -> list[str]:
    """The HTML report and one PNG per drawable plot, in `folder`; returns notes."""
    notes = write_report(study, folder / REPORT_NAME)
    for name, plot in PLOTS.items():
        if plot.skip(study) is None:
            try:
                _pngs.save(plot.png, study, folder / f"{name}.png")
            except Exception as exc:  # the HTML version already holds this plot
                notes.append(f"{plot.title} PNG skipped: {type(exc).__name__}: {exc}")
    return notes


def log_report(study: optuna.Study, client: MlflowClient, run_id: str) -> list[str]:
    """Draw the study's plots and attach them to its parent run, under `plots/`.

    Never raises: the trials are already stored, so a plot that fails must not fail the run.

    Returns:
        Notes on plots that were skipped or could not be logged.
    """
    try:
        with tempfile.TemporaryDirectory() as tmp:
            notes = write_plot_files(study, Path(tmp))
            client.log_artifacts(run_id, tmp, artifact_path=PLOTS_FOLDER)
    except Exception as exc:
        return [f"plots were not logged to MLflow: {type(exc).__name__}: {exc}"]
    return notes


def _summary(study: optuna.Study) -> str:
    trials = study.get_trials(deepcopy=False)
    states: dict[str, int] = {}
    for trial in trials:
        states[trial.state.name.lower()] = states.get(trial.state.name.lower(), 0) + 1
    rows: list[tuple[str, Any]] = [
        ("metric", f"{study.user_attrs.get('metric', 'value')} ({study.direction.name.lower()})"),
        ("data", study.user_attrs.get("data", "")),
        ("trials", ", ".join(f"{n} {s}" for s, n in sorted(states.items())) or "none"),
    ]
    folds = int(study.user_attrs.get("cv", 1))
    rows.append(("validation", f"{folds}-fold cross-validation" if folds > 1 else "one split"))
    if _complete(study):
        best = study.best_trial
        rows.append(("best", f"trial #{best.number}: {_value(best)}"))
        rows.append(("best parameters", _params_text(real_params(best))))
    baseline = find_baseline(study)
    if baseline is not None and baseline.value is not None:
        rows.append(("baseline", f"trial #{baseline.number}: {_value(baseline)}"))
    refit = study.user_attrs.get(REFIT_ATTR)
    if refit:
        rows.append(
            (
                "refit model",
                f"trial #{refit['trial']} retrained on {refit['rows']} rows{refit_mean(refit)}; "
                f"test {study.user_attrs.get('metric', 'value')} {refit['test']:.6g}",
            )
        )
    cells = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in rows
    )
    return f"<table class='summary'>{cells}</table>"


def _value(trial: FrozenTrial) -> str:
    """A trial's value; with folds, their mean with the spread over folds."""
    spread = fold_spread(trial)
    if spread is None:
        return f"{trial.value:.6g}"
    folds = len(trial.user_attrs[FOLD_SCORES_ATTR])
    return f"{trial.value:.6g} ± {spread:.4g} over {folds} folds"


def _params_text(params: dict[str, Any]) -> str:
    return " ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()
    )


_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}"
    "table.summary th{text-align:left;padding-right:1em}section{margin-top:2em}"
    ".note{color:#a60}"
)
