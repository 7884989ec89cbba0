"""The pruning check against a snapshot decides as `trial.should_prune()` does, and still writes."""

from __future__ import annotations

import random
from pathlib import Path

import optuna
import pytest

from search.run._pruners import PRUNERS, make_pruner
from search.run._pruning import PruneCheck, SnapshotStorage
from search.stores._storage import open_storage

# Heartbeats are for Study.optimize's loop; these studies also ask for trials by hand.
pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
STEPS = 8


def _value(number: int, step: int) -> float:
    """A recorded learning curve: trial-dependent level, noisy, improving with the step."""
    return random.Random(number * 1000 + step).random() * 0.5 + (number % 7) * 0.1 - step * 0.02


def _decisions(path: Path, pruner: str, snapshot: bool) -> tuple[list[bool], optuna.Study]:
    """Every pruning decision of a 30-trial study fed the recorded curves."""
    storage = open_storage(f"sqlite:///{path}")
    study = optuna.create_study(study_name="s", storage=storage, pruner=make_pruner(pruner))
    decisions: list[bool] = []

    def objective(trial: optuna.Trial) -> float:
        check = PruneCheck(trial)
        for step in range(STEPS):
            if snapshot:
                check.report(_value(trial.number, step), step)
                decisions.append(check.should_prune())
            else:
                trial.report(_value(trial.number, step), step)
                decisions.append(trial.should_prune())
            if decisions[-1]:
                raise optuna.TrialPruned()
        return _value(trial.number, STEPS - 1)

    study.optimize(objective, n_trials=30)
    return decisions, study


@pytest.mark.parametrize("pruner", sorted(PRUNERS))
def test_the_check_decides_as_should_prune_does(tmp_path: Path, pruner: str) -> None:
    expected, stored = _decisions(tmp_path / "a.db", pruner, snapshot=False)
    actual, checked = _decisions(tmp_path / "b.db", pruner, snapshot=True)

    assert actual == expected
    if pruner != "none":
        assert any(expected), "the recorded curves should make the pruner prune"
    # What other workers and a resume read is the same: every report and every rung record.
    for a, b in zip(stored.trials, checked.trials, strict=True):
        assert (a.state, a.intermediate_values, a.system_attrs) == (
            b.state,
            b.intermediate_values,
            b.system_attrs,
        )


def test_other_workers_trials_are_seen_after_the_refresh(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'o.db'}")
    study = optuna.create_study(study_name="s", storage=storage)
    running = study.ask()
    study_id = storage.get_study_id_from_name("s")
    fresh = SnapshotStorage(storage, study_id, running._trial_id, refresh_s=0.0)
    stale = SnapshotStorage(storage, study_id, running._trial_id, refresh_s=1e9)
    assert len(fresh.get_all_trials(study_id)) == len(stale.get_all_trials(study_id)) == 1

    study.add_trial(optuna.trial.create_trial(value=1.0))  # another worker's trial ends

    assert len(fresh.get_all_trials(study_id)) == 2
    assert len(stale.get_all_trials(study_id)) == 1


def test_a_step_reported_twice_keeps_its_first_value(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'o.db'}")
    study = optuna.create_study(study_name="s", storage=storage)
    trial = study.ask()
    check = PruneCheck(trial)
    check.report(0.5, 0)
    check.should_prune()
    with pytest.warns(UserWarning, match="already reported"):
        check.report(0.9, 0)

    seen_by_the_pruner = check._storage.get_trial(trial._trial_id)  # type: ignore[union-attr]
    assert seen_by_the_pruner.intermediate_values == {0: 0.5}
    assert storage.get_trial(trial._trial_id).intermediate_values == {0: 0.5}
