"""A failing trial is recorded and the study goes on; a streak of failures stops the run."""

from __future__ import annotations

from typing import Any

import optuna
import pytest

from search.stores._names import RUN_ID_ATTR
from spaces import SPACES, Problem, SpaceConfig, SpaceFamily, TrialFailed
from spaces._dense import dense_baseline, dense_space
from tests.search import stores_view

pytestmark = pytest.mark.slow


def _flaky(trial: optuna.Trial, problem: Problem, config: SpaceConfig) -> dict[str, Any]:
    """The dense space, made to fail on purpose in three different ways."""
    params = dense_space(trial, problem, config)
    if trial.number == 1:
        params["activation"] = "no_such_activation"  # an invalid combination: Keras refuses it
    elif trial.number == 2:
        params.update(optimizer="sgd", learning_rate=float("nan"), epochs=3)  # NaN loss
    elif trial.number == 3:
        raise RuntimeError("the space itself broke")
    return params


def _always_failing(trial: optuna.Trial, problem: Problem, config: SpaceConfig) -> dict[str, Any]:
    raise TrialFailed("made to fail")


@pytest.fixture
def broken_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    tasks = SPACES["dense"].tasks
    monkeypatch.setitem(SPACES, "flaky", SpaceFamily(_flaky, dense_baseline, tasks))
    monkeypatch.setitem(SPACES, "failing", SpaceFamily(_always_failing, dense_baseline, tasks))


def _config(tmp_path, space: str) -> str:
    path = tmp_path / f"{space}.toml"
    path.write_text(f'[study]\ndata = "iris"\nspace = "{space}"\npruner = "none"\n')
    return str(path)


def test_failed_trials_are_recorded_and_the_study_goes_on(
    tune, stores, tmp_path, broken_spaces
) -> None:
    tune("run", "--config", _config(tmp_path, "flaky"), "--trials", "5", "--max-epochs", "3",
         "--quiet", "--no-report", *stores.flags())  # fmt: skip

    trials = stores_view.trials(stores.storage, "iris")
    states = [t.state.name for t in trials]
    assert states == ["COMPLETE", "FAIL", "FAIL", "FAIL", "COMPLETE"]
    runs = {r.info.run_id: r for r in stores_view.runs(stores.tracking_uri, "iris", "trial")}
    reasons = [
        runs[t.user_attrs[RUN_ID_ATTR]].data.tags.get("tune.fail_reason", "") for t in trials
    ]
    assert "no_such_activation" in reasons[1]
    assert "nan" in reasons[2].lower() or "inf" in reasons[2].lower()
    assert "the space itself broke" in reasons[3]
    for trial in trials:
        run = runs[trial.user_attrs[RUN_ID_ATTR]]
        assert run.data.tags["tune.state"] == trial.state.name
        assert run.info.status == ("FAILED" if trial.state.name == "FAIL" else "FINISHED")


@pytest.mark.parametrize("workers", ["1", pytest.param("2", marks=pytest.mark.processes)])
def test_a_streak_of_failures_stops_the_run(
    tune, stores, tmp_path, broken_spaces, workers: str
) -> None:
    # The patched space lives in this process only: under --workers 2 its trials fail here,
    # and the helper, which cannot find the space, is stopped with the run.
    result = tune("run", "--config", _config(tmp_path, "failing"), "--trials", "10",
                  "--workers", workers, "--max-failures", "3", "--quiet", "--no-report",
                  *stores.flags(), code=1)  # fmt: skip
    assert result.err.strip().splitlines()[-1].startswith("error: 3 trials failed in a row")
    assert "Traceback" not in result.err
    assert stores_view.states(stores_view.trials(stores.storage, "iris")) == {"FAIL": 3}
    parents = stores_view.runs(stores.tracking_uri, "iris", "study")
    assert [p.info.status for p in parents] == ["FAILED"]
    stores_view.assert_consistent(stores.storage, stores.tracking_uri, "iris")


def test_ctrl_c_as_the_trial_is_linked_to_its_run_still_records_why(
    tune, stores, tmp_path, monkeypatch
) -> None:
    # A trial records its run's id as it ends, after training: a Ctrl-C right then, the
    # last moment it can land in a trial, must end the trial like any other.
    set_user_attr = optuna.Trial.set_user_attr
    interrupted: list[int] = []

    def interrupted_once(trial: optuna.Trial, key: str, value: Any) -> None:
        set_user_attr(trial, key, value)
        if key == RUN_ID_ATTR and trial.number == 1 and not interrupted:
            interrupted.append(trial.number)
            raise KeyboardInterrupt

    monkeypatch.setattr(optuna.Trial, "set_user_attr", interrupted_once)
    result = tune("run", "--config", _config(tmp_path, "dense"), "--trials", "3",
                  "--max-epochs", "1", "--quiet", "--no-report", *stores.flags(), code=130)  # fmt: skip
    assert result.err.strip().splitlines()[-1].startswith("error: interrupted")
    trials = stores_view.trials(stores.storage, "iris")
    assert [t.state.name for t in trials] == ["COMPLETE", "FAIL"]
    assert "interrupted" in trials[1].user_attrs["fail_reason"]
    runs = {r.info.run_id: r for r in stores_view.runs(stores.tracking_uri, "iris", "trial")}
    assert "interrupted" in runs[trials[1].user_attrs[RUN_ID_ATTR]].data.tags["tune.fail_reason"]
    stores_view.assert_consistent(stores.storage, stores.tracking_uri, "iris")
