"""A run's set-up: the data checked against the spec, the study's identity, the stores opened."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import keras
import optuna
from mlflow import MlflowClient
from mlflow.entities import DatasetInput

from objectives import (
    BUILTINS,
    FamilyChoice,
    Metric,
    PreparedData,
    choose_family,
    get_metric,
    load_base,
    prepare,
)
from search._options import DEFAULT_BACKEND
from search.run._folds import Validation, plan_validation
from search.run._pruners import make_pruner
from search.run._samplers import make_sampler
from search.run._spec import AUTO, StudySpec, default_study_name
from search.stores._lineage import dataset_input
from search.stores._lookup import find_baseline, peek_study_attrs
from search.stores._names import (
    BASELINE_ATTR,
    DEFAULT_STORAGE,
    DEFAULT_TRACKING_URI,
    LEGACY_KEEP_EPOCH,
    SCHEMA_ATTR,
)
from search.stores._recovery import StaleTrialHandler
from search.stores._storage import mask_url, open_storage
from search.stores._tracking import connect
from spaces import ConfigError, SpaceFamily, get_space, record_difference

# What a study made before an identity attribute was recorded is taken to have had.
IDENTITY_DEFAULTS: dict[str, Any] = {
    "cv": 1, "base_model": "", "backend": DEFAULT_BACKEND, "keep_epoch": LEGACY_KEEP_EPOCH,
}  # fmt: skip
# The `[space.*]` tables each family reads; with a base model, `transfer` replaces its own.
FAMILY_TABLES: dict[str, tuple[str, ...]] = {
    "dense": (),
    "cnn": ("cnn", "augment"),
    "rnn": ("rnn",),
}
# With folds, a trial reports one step per fold: the median pruner may judge after two.
CV_WARMUP_STEPS = 1


@dataclass(frozen=True)
class Setup:
    """What a run needs once the spec and the data have been checked; no store touched yet."""

    spec: StudySpec
    data: PreparedData
    metric: Metric
    family: SpaceFamily
    study_name: str
    storage_url: str
    tracking_uri: str
    baseline: dict[str, Any]
    validation: Validation
    choice: FamilyChoice

    @property
    def base_model(self) -> str:
        """The base model's absolute path, or '' without one."""
        base = self.data.problem.base
        return base.path if base is not None else ""

    @property
    def refits(self) -> bool:
        """Whether the run ends with a refit: always with folds; else as --refit says, by
        default yes (the mean of three draws, bench/ensemble.md; a single draw scored worse
        on regression, bench/refit.md)."""
        if self.validation.crossed or self.spec.refit is None:
            return True
        return self.spec.refit

    @property
    def notes(self) -> tuple[str, ...]:
        """What the user is told before the trials: the data's, the config's and the folds'."""
        config = self.spec.space_config
        return (*self.data.notes, *config.notes, *filter(None, [self.validation.note]))

    @property
    def warnings(self) -> tuple[str, ...]:
        """What in the settings is ignored: family tables that the searched family does not read."""
        return tuple(unused_tables(self))

    @property
    def identity(self) -> dict[str, Any]:
        """The attributes that tie a study to its data and objective.

        A study made before one of them was recorded is not refused for lacking it.
        """
        return {
            "data": data_reference(self.spec.data),
            "data_digest": self.data.fingerprint.digest,
            "target": ",".join(self.data.encoding.columns),
            "task": self.data.problem.task,
            "metric": self.metric.name,
            "space": self.choice.family,
            "cv": self.validation.k,
            "keep_epoch": self.spec.keep_epoch,
            "base_model": self.base_model,
            "seed": self.spec.seed,
            "sampler": self.spec.sampler,
            "pruner": self.spec.pruner,
            "backend": self.spec.backend,
            # Last: a conflict names the plainer settings above first.
            "ranges": self.spec.effective_space.to_record(),
        }

    def inputs(self) -> list[DatasetInput]:
        """The data, as the MLflow dataset input of the study's runs."""
        return [dataset_input(self.data.fingerprint)]

    def run_tags(self) -> dict[str, Any]:
        """Tags of the study's parent run (credentials masked)."""
        problem = self.data.problem
        return {
            "tune.study": self.study_name,
            "tune.sampler": self.spec.sampler,
            "tune.pruner": self.spec.pruner,
            "tune.data": data_reference(self.spec.data),
            "tune.target": ",".join(self.data.encoding.columns),
            "tune.task": problem.task,
            "tune.task_reason": self.data.task_reason,
            "tune.metric": self.metric.name,
            "tune.direction": self.metric.direction,
            "tune.n_inputs": problem.n_inputs,
            "tune.n0": problem.n0,
            "tune.seed": self.spec.seed,
            "tune.storage": mask_url(self.storage_url),
            "tune.cv": self.validation.k,
            "tune.cv_reason": self.validation.reason,
            "tune.keep_epoch": self.spec.keep_epoch,
            "tune.space": self.choice.family,
            "tune.space_reason": self.choice.reason,
            "tune.backend": self.spec.backend,
            **({"tune.base_model": self.base_model} if self.base_model else {}),
        }

    def pruner(self) -> optuna.pruners.BasePruner:
        """The study's pruner; with folds, a trial's steps are its folds, not its epochs."""
        return make_pruner(self.spec.pruner, CV_WARMUP_STEPS if self.validation.crossed else None)


def make_setup(spec: StudySpec, stored_family: str | None = None) -> Setup:
    """Check the spec against the data. Raises before any study or run exists.

    Args:
        stored_family: The family of the existing study of this name (see `stored_family`);
            with `--space auto` it is kept, so a study goes on as it was made.
    """
    _check_backend_loaded(spec.backend)
    base = load_base(spec.base_model) if spec.base_model else None
    if stored_family and spec.space == AUTO and base is None:
        choice = FamilyChoice(stored_family, "the study's own family, kept on a rerun")
    else:
        choice = choose_family(spec.data, spec.space, base)
    family = get_space(choice.family)
    data = prepare(spec.data, spec.target, spec.task, spec.seed, family.layout, base)
    metric = get_metric(spec.metric, data.problem.task)
    if data.problem.task not in family.tasks:
        raise ConfigError(f"space '{choice.family}' does not serve {data.problem.task} tasks.")
    baseline = family.baseline(data.problem, spec.effective_space)
    make_sampler(spec.sampler, spec.seed)  # fails early where a sampler's extra is missing
    return Setup(
        # Workers get the family itself: `auto` is resolved once, here.
        spec=replace(spec, space=choice.family),
        data=data,
        metric=metric,
        family=family,
        study_name=spec.study or default_study_name(spec.data, spec.target),
        storage_url=spec.storage or DEFAULT_STORAGE,
        tracking_uri=spec.tracking_uri or DEFAULT_TRACKING_URI,
        baseline=baseline,
        validation=plan_validation(spec.cv, data),
        choice=choice,
    )


def _check_backend_loaded(backend: str) -> None:
    # Keras picks its backend once per process, on import (the CLI sets it first).
    loaded = keras.backend.backend()
    if loaded != backend:
        raise ConfigError(
            f"Keras is loaded with the {loaded} backend in this process, not {backend}; "
            f"set KERAS_BACKEND={backend} before Keras is imported, or run `tune run`."
        )


def stored_family(spec: StudySpec) -> str | None:
    """The family an existing study of the spec's name was made with, when `--space auto`
    must keep it; None for a new study or an explicit `--space`. Reads, never writes."""
    if spec.space != AUTO:
        return None
    name = spec.study or default_study_name(spec.data, spec.target)
    attrs = peek_study_attrs(spec.storage or DEFAULT_STORAGE, name) or {}
    space = attrs.get("space")
    return str(space) if space else None


def unused_tables(setup: Setup) -> list[str]:
    """Warnings for `[space.*]` tables that the searched family does not read."""
    family = setup.choice.family
    used = set(FAMILY_TABLES.get(family, ()))
    if setup.data.problem.base is not None:
        used = (used - {family}) | {"transfer"}
    return [
        f"[space.{name}] is set, but the {family} family is searched "
        f"{'with' if setup.base_model else 'without'} a base model; its keys are ignored"
        for name in sorted(setup.spec.space_config.tables - used)
    ]


def data_reference(data: str) -> str:
    """How a study records its data: a built-in's name, or a file's absolute path."""
    return data if data in BUILTINS else str(Path(data).resolve())


def open_study(setup: Setup, storage: optuna.storages.BaseStorage) -> optuna.Study:
    """Create the study (with the baseline enqueued) or load it, checking it matches.

    Loading an existing study writes nothing, so a mismatch is refused with the store as it was.
    """
    spec = setup.spec
    study = optuna.create_study(
        study_name=setup.study_name,
        storage=storage,
        sampler=make_sampler(spec.sampler, spec.seed),
        pruner=setup.pruner(),
        direction=setup.metric.direction,  # type: ignore[arg-type]
        load_if_exists=True,
    )
    _check_identity(study, setup)
    if not study.user_attrs:
        for key, value in setup.identity.items():
            study.set_user_attr(key, value)
        study.set_user_attr(SCHEMA_ATTR, json.dumps(setup.data.schema()))
    # Only a new study gets the textbook trial: one made before a rule of thumb changed
    # keeps the baseline it stored, rather than gaining a second one.
    if find_baseline(study) is None:
        study.enqueue_trial(setup.baseline, user_attrs={BASELINE_ATTR: True}, skip_if_exists=True)
    return study


def _check_identity(study: optuna.Study, setup: Setup) -> None:
    stored = study.user_attrs
    if not stored:  # a new study
        return
    for key, value in setup.identity.items():
        if key == "data" and "data_digest" in stored:
            continue  # the same content at another path (another machine) is the same data
        # Studies made before `cv` existed used one validation split.
        was = stored.get(key, IDENTITY_DEFAULTS.get(key))
        if key == "ranges" and was is not None:
            _check_ranges(setup.study_name, was, value)
        elif was is not None and was != value:
            raise ConfigError(
                f"study '{setup.study_name}' was made with {key}={was!r}, not {value!r}; "
                "pass another --study name or the same settings."
            )


def _check_ranges(study_name: str, was: dict[str, Any], now: dict[str, Any]) -> None:
    difference = record_difference(was, now)
    if difference is not None:
        raise ConfigError(
            f"study '{study_name}' was made with the space range {difference}; "
            "pass another --study name, or the same --config and --max-epochs."
        )


def open_stores(setup: Setup) -> tuple[optuna.storages.RDBStorage, MlflowClient]:
    """Open (or create) the run's Optuna storage and MLflow store.

    A trial whose worker stops sending heartbeats has its MLflow run closed before Optuna
    retries it, whichever process notices.
    """
    spec = setup.spec
    storage = open_storage(
        setup.storage_url,
        StaleTrialHandler(setup.tracking_uri),
        heartbeat_interval=spec.heartbeat_interval,
        grace_period=spec.grace_period,
    )
    return storage, connect(setup.tracking_uri)
