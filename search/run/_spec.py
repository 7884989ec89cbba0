"""The study spec: every setting of a `tune run`, validated once, from flags and a TOML file."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from search._options import BACKEND_INSTALLS, DEFAULT_BACKEND
from search.run._pruners import PRUNERS
from search.run._samplers import SAMPLERS
from search.stores._lookup import peek_study_attrs
from search.stores._names import DEFAULT_STORAGE, LEGACY_KEEP_EPOCH
from search.stores._storage import GRACE_PERIOD, HEARTBEAT_INTERVAL
from spaces import KEEP_EPOCHS, SPACES, TASKS, ConfigError, SpaceConfig, check_choice

_FILE_TABLES = ("study", "space")
# `cv = "auto"`: cross-validation where the rows are few (search/run/_setup.py decides);
# `space = "auto"`: the family the data's shape calls for (objectives/_layout.py).
AUTO = "auto"
# NumPy's generators take seeds below 2**32, and each trial seeds Keras with seed + number;
# below 2**31 leaves room for as many trials as a study can hold.
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class StudySpec:
    """Settings of one `tune run`. Nothing below the CLI reads flags or the environment."""

    data: str = "breast_cancer"
    target: str | None = None
    task: str | None = None
    study: str | None = None
    storage: str | None = None
    tracking_uri: str | None = None
    sampler: str = "tpe"
    pruner: str = "median"
    # A family, or auto: the data's shape decides, and a rerun keeps the study's family.
    space: str = "auto"
    base_model: str | None = None
    metric: str | None = None
    trials: int = 20
    timeout: float | None = None
    seed: int = 42
    max_epochs: int | None = None
    workers: int = 1
    recycle_after: int = 50
    max_rss_mb: float = 4096.0
    max_failures: int = 10
    cv: int | str = 1
    # Which epoch's weights a trial keeps and is scored by: the last, or the best on
    # validation (bench/best_epoch.md: better on some datasets, worse on tiny validation splits).
    keep_epoch: str = "last"
    # At the end of a run, train the best configuration again on every row outside the test
    # split; that refit is the model users get. None: the default, yes (Setup.refits).
    refit: bool | None = None
    # Optuna's heartbeat: a worker silent for `grace_period` seconds is taken for dead and
    # its trial retried once. Short values let a fail-over test take seconds.
    heartbeat_interval: int = HEARTBEAT_INTERVAL
    grace_period: int = GRACE_PERIOD
    report: bool = True
    # The Keras backend: chosen by the CLI before Keras loads, and part of the identity.
    backend: str = DEFAULT_BACKEND
    space_config: SpaceConfig = field(default_factory=SpaceConfig)

    def __post_init__(self) -> None:
        check_choice("sampler", self.sampler, SAMPLERS)
        check_choice("pruner", self.pruner, PRUNERS)
        check_choice("space", self.space, (AUTO, *SPACES))
        check_choice("backend", self.backend, BACKEND_INSTALLS)
        check_choice("keep_epoch", self.keep_epoch, KEEP_EPOCHS)
        if self.task is not None:
            check_choice("task", self.task, TASKS)
        _positive("trials", self.trials)
        if isinstance(self.seed, bool) or not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be between 0 and {MAX_SEED}, but got seed={self.seed}.")
        _positive("workers", self.workers)
        _positive("recycle_after", self.recycle_after)
        _positive("max_failures", self.max_failures)
        _positive("max_rss_mb", self.max_rss_mb)
        if self.timeout is not None:
            _positive("timeout", self.timeout)
        _positive("heartbeat_interval", self.heartbeat_interval)
        _positive("grace_period", self.grace_period)
        if self.grace_period <= self.heartbeat_interval:
            raise ConfigError(
                "grace_period must be longer than heartbeat_interval, but got "
                f"grace_period={self.grace_period}, heartbeat_interval={self.heartbeat_interval}."
            )
        if self.max_epochs is not None:
            _positive("max_epochs", self.max_epochs)
        if self.cv != AUTO and (isinstance(self.cv, bool) or not isinstance(self.cv, int)):
            raise ConfigError(f"cv must be a number of folds or '{AUTO}', but got cv={self.cv!r}.")
        if isinstance(self.cv, int) and self.cv < 1:
            raise ConfigError(
                f"cv must be at least 1 (1 is a single validation split), but got cv={self.cv}."
            )
        if self.base_model is not None and not self.base_model.strip():
            raise ConfigError("base_model must be a path to a .keras file, but got base_model=''.")
        if self.study is not None and not self.study.strip():
            raise ConfigError("study must be a non-empty name, but got study=''.")

    @property
    def effective_space(self) -> SpaceConfig:
        """The space config with --max-epochs applied."""
        if self.max_epochs is None:
            return self.space_config
        return self.space_config.with_max_epochs(self.max_epochs)


def build_spec(flags: Mapping[str, Any], config_path: Path | None = None) -> StudySpec:
    """Merge a TOML study file and CLI flags (flags win) into one validated spec."""
    from search.run._join import fill_from_study  # reads the store: only for a whole run

    values = with_stored_keep_epoch(fill_from_study(read_settings(flags, config_path)))
    try:
        return StudySpec(**values)
    except TypeError as exc:  # a wrong type in the TOML file, such as trials = "ten"
        raise ConfigError(f"invalid study settings: {exc}.") from exc


def read_settings(flags: Mapping[str, Any], config_path: Path | None = None) -> dict[str, Any]:
    """The settings a run was given: the TOML study file's, overridden by the flags set.

    Loads neither Keras nor the data, so the CLI can read `backend` before Keras loads.
    """
    values: dict[str, Any] = {}
    if config_path is not None:
        values.update(_read_config(config_path))
    values.update({key: value for key, value in flags.items() if value is not None})
    return values


def stored_backend(values: Mapping[str, Any]) -> str | None:
    """The backend of the existing study that `values` name, or None for a new study.

    Reads the Optuna store only; Keras is not loaded yet when the CLI asks.
    """
    attrs = _stored_attrs(values)
    return None if attrs is None else str(attrs.get("backend", DEFAULT_BACKEND))


def with_stored_keep_epoch(values: dict[str, Any]) -> dict[str, Any]:
    """`values`, with the existing study's --keep-epoch where they leave it unset: a rerun
    goes on as its study began (a study from before the choice kept its last epoch)."""
    if "keep_epoch" in values:
        return values
    attrs = _stored_attrs(values)
    if attrs is None:
        return values
    return {**values, "keep_epoch": attrs.get("keep_epoch", LEGACY_KEEP_EPOCH)}


def _stored_attrs(values: Mapping[str, Any]) -> dict[str, Any] | None:
    data = values.get("data", StudySpec.data)
    name = values.get("study") or default_study_name(data, values.get("target"))
    return peek_study_attrs(values.get("storage") or DEFAULT_STORAGE, name)


def default_study_name(data: str, target: str | None) -> str:
    """A study name derived from the data: the built-in's name or the file's stem."""
    stem = Path(data).stem  # a built-in's name (no dot, no slash) is its own stem
    return f"{stem}-{target.replace(',', '+')}" if target else stem


def _read_config(path: Path) -> dict[str, Any]:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file '{path}': {exc.strerror}.") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file '{path}' is not valid TOML: {exc}.") from exc
    unknown = sorted(set(document) - set(_FILE_TABLES))
    if unknown:
        raise ConfigError(
            f"unknown table(s) in '{path}': {', '.join(unknown)}. Use [study] and [space]."
        )
    study = document.get("study", {})
    space = document.get("space", {})
    if not isinstance(study, dict) or not isinstance(space, dict):
        raise ConfigError(f"'{path}' must hold [study] and [space] tables.")
    values = _study_values(study)
    if "space" in document:  # without one, a joining run keeps the study's (search/run/_join.py)
        values["space_config"] = SpaceConfig.from_mapping(space)
    return values


def _study_values(table: Mapping[str, Any]) -> dict[str, Any]:
    settable = {f.name: f for f in fields(StudySpec) if f.name != "space_config"}
    unknown = sorted(set(table) - set(settable))
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [study]: {', '.join(unknown)}. "
            f"Valid keys are: {', '.join(sorted(settable))}."
        )
    for key, value in table.items():
        _check_type(key, value, str(settable[key].type))
    return dict(table)


def _check_type(key: str, value: Any, annotation: str) -> None:
    if annotation == "int | str":  # cv: a number of folds or "auto", checked by the spec
        ok = isinstance(value, int | str) and not isinstance(value, bool)
    elif annotation in ("bool", "bool | None") or isinstance(value, bool):
        ok = annotation.startswith("bool") and isinstance(value, bool)
    elif "int" in annotation and "float" not in annotation:
        ok = isinstance(value, int)
    elif "float" in annotation:
        ok = isinstance(value, int | float) and math.isfinite(value)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"{key} must be of type {annotation}, but got {key}={value!r}.")


def _positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not value > 0:
        raise ConfigError(f"{name} must be positive, but got {name}={value}.")
