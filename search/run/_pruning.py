"""The per-epoch pruning check: Optuna's own pruner, asked against a snapshot of the study.

`trial.should_prune()` has the pruner read every trial of the study from the store at each
epoch, which costs milliseconds an epoch and grows with the study. Within one process no
other trial changes while a trial trains, so the same pruner, handed the study as it was
when the trial started plus the trial's own values as they are reported, makes the same
decisions without reading the store. Other workers' progress is picked up by re-reading
the study every REFRESH_S seconds. Reports stay store writes, so other workers and a
resume see every value; so do the rung records that successive halving writes.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Container, Sequence
from typing import Any

import keras
import optuna
from optuna.storages import BaseStorage
from optuna.study import StudyDirection
from optuna.study._frozen import FrozenStudy
from optuna.trial import FrozenTrial, TrialState

# How stale another worker's trials may be when a pruner judges a trial.
REFRESH_S = 10.0


class SnapshotStorage(BaseStorage):
    """A storage whose reads of one study's trials come from a snapshot; writes go through.

    The running trial is served as the process knows it (`own`), so its reports and
    system attributes are current without a read.
    """

    def __init__(
        self,
        storage: BaseStorage,
        study_id: int,
        own_id: int,
        refresh_s: float = REFRESH_S,
    ) -> None:
        self._storage = storage
        self._refresh_s = refresh_s
        self._study_ids: dict[str, int] = {}
        self._directions: dict[int, list[StudyDirection]] = {}
        # One read gives the study and the running trial as stored (its parameters,
        # attributes and reports so far); from then on the process keeps `own` current.
        self._read(study_id)
        self.own = copy.deepcopy(next(t for t in self._trials if t._trial_id == own_id))

    def _read(self, study_id: int) -> None:
        self._trials = self._storage.get_all_trials(study_id, deepcopy=False)
        self._taken = time.monotonic()

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        if time.monotonic() - self._taken > self._refresh_s:
            self._read(study_id)
        trials = [self._own_now() if t._trial_id == self.own._trial_id else t for t in self._trials]
        if states is not None:
            trials = [t for t in trials if t.state in states]
        return copy.deepcopy(trials) if deepcopy else trials

    def _own_now(self) -> FrozenTrial:
        # A copy, as a read from the store would be: a pruner that writes after reading
        # (successive halving's rungs) must not see its write in the list it already read.
        own = copy.copy(self.own)
        own.system_attrs = dict(self.own.system_attrs)
        own.intermediate_values = dict(self.own.intermediate_values)
        return own

    def get_trial(self, trial_id: int) -> FrozenTrial:
        if trial_id == self.own._trial_id:
            return self._own_now()
        return self._storage.get_trial(trial_id)

    def get_study_id_from_name(self, study_name: str) -> int:
        if study_name not in self._study_ids:
            self._study_ids[study_name] = self._storage.get_study_id_from_name(study_name)
        return self._study_ids[study_name]

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        if study_id not in self._directions:
            self._directions[study_id] = self._storage.get_study_directions(study_id)
        return self._directions[study_id]

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._storage.set_trial_system_attr(trial_id, key, value)
        if trial_id == self.own._trial_id:
            self.own.system_attrs[key] = value

    # Everything else is the store's.

    def create_new_study(
        self, directions: Sequence[StudyDirection], study_name: str | None = None
    ) -> int:
        return self._storage.create_new_study(directions, study_name)

    def delete_study(self, study_id: int) -> None:
        self._storage.delete_study(study_id)

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._storage.set_study_user_attr(study_id, key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._storage.set_study_system_attr(study_id, key, value)

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._storage.get_study_name_from_id(study_id)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._storage.get_study_user_attrs(study_id)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._storage.get_study_system_attrs(study_id)

    def get_all_studies(self) -> list[FrozenStudy]:
        return self._storage.get_all_studies()

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        return self._storage.create_new_trial(study_id, template_trial)

    def set_trial_param(
        self,
        trial_id: int,
        param_name: str,
        param_value_internal: float,
        distribution: optuna.distributions.BaseDistribution,
    ) -> None:
        self._storage.set_trial_param(trial_id, param_name, param_value_internal, distribution)

    def set_trial_state_values(
        self, trial_id: int, state: TrialState, values: Sequence[float] | None = None
    ) -> bool:
        return self._storage.set_trial_state_values(trial_id, state, values)

    def set_trial_intermediate_value(self, trial_id: int, step: int, value: float) -> None:
        self._storage.set_trial_intermediate_value(trial_id, step, value)

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._storage.set_trial_user_attr(trial_id, key, value)


class PruneCheck:
    """Reports a trial's values and asks the study's pruner whether to stop it.

    Drop-in for `trial.report(value, step)` then `trial.should_prune()`.
    """

    def __init__(self, trial: optuna.Trial, refresh_s: float = REFRESH_S) -> None:
        self.trial = trial
        self._refresh_s = refresh_s
        self._view: optuna.Study | None = None
        self._storage: SnapshotStorage | None = None

    def report(self, value: float, step: int) -> None:
        """Report `value` at `step` to the store, as `trial.report` does."""
        self.trial.report(value, step)
        if self._storage is not None:  # a step reported twice keeps its first value, as stored
            self._storage.own.intermediate_values.setdefault(step, float(value))

    def should_prune(self) -> bool:
        """The pruner's answer for the values reported so far."""
        study = self.trial.study
        if self._storage is None:
            self._open(study)
        assert self._view is not None and self._storage is not None
        return study.pruner.prune(self._view, self._storage.own)

    def _open(self, study: optuna.Study) -> None:
        # The ids are Optuna's private attributes; reading them costs no query.
        self._storage = SnapshotStorage(
            self.trial.storage, study._study_id, self.trial._trial_id, self._refresh_s
        )
        self._view = optuna.Study(
            study_name=study.study_name,
            storage=self._storage,
            sampler=study.sampler,
            pruner=study.pruner,
        )


class PruningCallback(keras.callbacks.Callback):
    """Reports `monitor` after each epoch (step = epoch) and stops a trial the pruner prunes."""

    def __init__(self, check: PruneCheck, monitor: str) -> None:
        super().__init__()
        self.check = check
        self.monitor = monitor

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is None:
            return  # the metric is missing only where validation did not run
        self.check.report(float(value), epoch)
        if self.check.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch}")
