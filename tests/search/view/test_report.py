"""tune report and the plots logged to MLflow; small studies skip plots with a note."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from mlflow import MlflowClient

from search.stores._names import REFIT_ATTR
from search.view._report import PLOTS, _summary, write_plot_files
from tests.conftest import Stores
from tests.search.built import built_study

PLOTLY_BANNER = "plotly.js v"


@pytest.fixture(scope="module")
def iris(tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path) -> Iterator[Stores]:
    with built_study(tmp_path_factory, migrated_mlflow_db, "--data", "iris", report=True) as stores:
        yield stores


def _tiny_study(values: list[float], baseline: bool = True) -> optuna.Study:
    """An in-memory study without Keras: one float parameter, two reported epochs per trial."""
    study = optuna.create_study(direction="maximize")
    for i, value in enumerate(values):
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        trial.set_user_attr("baseline", baseline and i == 0)
        trial.report(value / 2, 0)
        trial.report(value, 1)
        study.tell(trial, value)
    return study


@pytest.mark.slow
def test_report_is_one_html_file_with_every_plot(tune, iris, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = tune("report", "iris", "--out", str(out), *iris.flags())
    assert f"Wrote {out}" in result.out
    page = out.read_text(encoding="utf-8")
    for name, plot in PLOTS.items():
        assert f"<section id='{name}'>" in page
        assert plot.title in page
    assert page.count('class="plotly-graph-div"') == len(PLOTS)
    assert page.count(PLOTLY_BANNER) == 1  # plotly.js inlined once: no network needed
    assert '<script src="https://cdn' not in page


@pytest.mark.slow
def test_report_log_attaches_html_and_pngs_to_the_parent_run(tune, iris, tmp_path: Path) -> None:
    result = tune("report", "iris", "--out", str(tmp_path / "r.html"), "--log", *iris.flags())
    client = MlflowClient(tracking_uri=iris.tracking_uri)
    experiment = client.get_experiment_by_name("iris")
    parent = client.search_runs([experiment.experiment_id], "tags.`tune.role` = 'study'")[0]
    assert parent.info.run_id in result.out
    logged = {Path(a.path).name for a in client.list_artifacts(parent.info.run_id, "plots")}
    assert logged == {"report.html", *(f"{name}.png" for name in PLOTS)}


@pytest.mark.slow
def test_report_of_an_unknown_study_is_an_error(tune, iris, tmp_path: Path) -> None:
    err = tune("report", "nope", "--out", str(tmp_path / "r.html"), *iris.flags(), code=2).err
    assert err.startswith("error: unknown study 'nope'")
    assert not (tmp_path / "r.html").exists()


def test_one_complete_trial_skips_the_importances_with_a_note(tmp_path: Path) -> None:
    notes = write_plot_files(_tiny_study([0.5]), tmp_path)
    assert notes == ["Parameter importances skipped: needs 2 complete trials, the study has 1"]
    assert (tmp_path / "report.html").is_file()
    pngs = {p.name for p in tmp_path.glob("*.png")}
    assert pngs == {f"{name}.png" for name in PLOTS if name != "importances"}


def test_a_study_without_baseline_or_complete_trials_still_writes_a_report(tmp_path: Path) -> None:
    study = optuna.create_study()
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    notes = write_plot_files(study, tmp_path)
    assert len(notes) == len(PLOTS)
    assert "no trial completed" in notes[0]
    assert not list(tmp_path.glob("*.png"))
    assert "skipped" in (tmp_path / "report.html").read_text(encoding="utf-8")


def test_a_varied_study_draws_every_plot(tmp_path: Path) -> None:
    notes = write_plot_files(_tiny_study([0.2, 0.9, 0.4]), tmp_path)
    assert notes == []
    assert len(list(tmp_path.glob("*.png"))) == len(PLOTS)


def test_the_report_command_needs_a_complete_trial(tune, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'failed.db'}"
    study = optuna.create_study(study_name="broken", storage=storage)
    study.tell(study.ask(), state=optuna.trial.TrialState.FAIL)
    err = tune(
        "report", "broken", "--storage", storage, "--out", str(tmp_path / "r.html"), code=1
    ).err
    assert err.startswith("error: study 'broken' has no complete trial yet")


def test_the_summary_names_the_refit_and_how_many_draws_it_averages() -> None:
    study = _tiny_study([0.5, 0.9])
    study.set_user_attr("metric", "accuracy")
    study.set_user_attr(REFIT_ATTR, {"trial": 1, "rows": 120, "test": 0.95, "draws": 3})
    assert "trial #1 retrained on 120 rows, the mean of 3 draws; test accuracy 0.95" in _summary(
        study
    )
    # A refit recorded before refits were averaged is one draw, and says nothing of a mean.
    study.set_user_attr(REFIT_ATTR, {"trial": 1, "rows": 120, "test": 0.95})
    assert "trial #1 retrained on 120 rows; test accuracy 0.95" in _summary(study)
