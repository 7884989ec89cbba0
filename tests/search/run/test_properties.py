"""Property-based tests: malformed CSV files and random config values.

Every case either succeeds or fails with one clean line (a TuneError, never a traceback),
and nothing is written to any store on error. The bulk runs against the library entry points
that validate data and spec; a handful goes through the CLI.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from objectives import prepare
from search.cli import main
from search.run._setup import make_setup
from search.run._spec import build_spec
from spaces import ACTIVATIONS, INITIALIZERS, LOSSES_BY_TASK, OPTIMIZERS, TASKS, TuneError
from tests.search.run.test_bad_input import clean_error, stores_are_empty

# No example database: the repository stays clean, and each run explores afresh.
# TUNE_HYPOTHESIS_EXAMPLES=2500 makes a deeper hunt (about two minutes) than the default.
FAST = settings(
    max_examples=int(os.environ.get("TUNE_HYPOTHESIS_EXAMPLES", 120)), deadline=None, database=None
)
CLI = settings(
    max_examples=8,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = st.sampled_from(["x", "y", "label", "target", "a", "b", "", " ", "x.1", "é", "1"])
CELLS = st.one_of(
    st.integers(-3, 3),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(["", "nan", "NA", "inf", "-inf", "1e308", "null", '"', ",", "a\nb", "x"]),
    st.text(max_size=6),
)


@st.composite
def typed_frames(draw: st.DrawFn) -> bytes:
    """A CSV written by pandas from columns of random types, missing values included."""
    n_rows = draw(st.integers(0, 40))
    columns: dict[str, list[Any]] = {}
    for i in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["binary", "classes", "float", "bool", "text", "mixed"]))
        element = {
            "binary": st.sampled_from([0, 1]),
            "classes": st.sampled_from(["cat", "dog", "eel", None]),
            "float": st.one_of(st.floats(-1e6, 1e6), st.just(float("nan")), st.just(math.inf)),
            "bool": st.booleans(),
            "text": st.text(max_size=4),
            "mixed": CELLS,
        }[kind]
        columns[f"c{i}"] = draw(st.lists(element, min_size=n_rows, max_size=n_rows))
    return pd.DataFrame(columns).to_csv(index=False).encode()


@st.composite
def ragged_rows(draw: st.DrawFn) -> bytes:
    """A header and rows of any length, cells joined by commas without quoting."""
    header = draw(st.lists(NAMES, min_size=1, max_size=4))
    rows = draw(st.lists(st.lists(CELLS, max_size=6), max_size=25))
    lines = [",".join(header)] + [",".join(map(str, row)) for row in rows]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@st.composite
def perturbed_frames(draw: st.DrawFn) -> bytes:
    """A nearly valid table (any task), with a few cells made missing, infinite, huge or text."""
    n_rows = draw(st.integers(10, 40))
    kind = draw(st.sampled_from(["binary", "classes", "float", "multilabel"]))
    rng = np.random.default_rng(draw(st.integers(0, 1000)))
    frame = pd.DataFrame({"x0": rng.normal(size=n_rows), "x1": rng.choice(["u", "v"], n_rows)})
    if kind == "multilabel":
        frame["c0"], frame["c1"] = rng.integers(0, 2, n_rows), rng.integers(0, 2, n_rows)
    else:
        frame["c0"] = {
            "binary": lambda: rng.integers(0, 2, n_rows),
            "classes": lambda: rng.choice(["cat", "dog", "eel"], n_rows),
            "float": lambda: rng.normal(size=n_rows) * 10,
        }[kind]()
    frame = frame.astype(object)
    for _ in range(draw(st.integers(0, 4))):
        row = draw(st.integers(0, n_rows - 1))
        frame.iat[row, draw(st.integers(0, frame.shape[1] - 1))] = draw(CELLS)
    return frame.to_csv(index=False).encode("utf-8", "surrogatepass")


CSV_CONTENTS = st.one_of(
    st.just(b""),
    st.binary(max_size=200),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
    ragged_rows(),
    typed_frames(),
    perturbed_frames(),
    perturbed_frames(),
)
TARGETS = st.one_of(
    st.none(), st.none(), NAMES, st.sampled_from(["c0", "c1", "c0,c1", "c1,c1", "c9", ","])
)
FORCED = st.one_of(st.none(), st.sampled_from(TASKS))


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    """A fresh temporary working directory per example (pytest's tmp_path is per test)."""
    with tempfile.TemporaryDirectory() as name, contextlib.chdir(name):
        yield Path(name)


def _one_line(exc: TuneError) -> None:
    message = str(exc)
    assert message.strip() and "\n" not in message, repr(message)


def _check_prepared(source: str, target: str | None, task: str | None) -> None:
    try:
        data = prepare(source, target, task, seed=0)
    except TuneError as exc:
        _one_line(exc)
        event(f"refused: {type(exc).__name__}")
        return
    event(f"prepared: {data.problem.task}")
    splits, problem = data.splits, data.problem
    for x, y in (
        (splits.x_train, splits.y_train),
        (splits.x_val, splits.y_val),
        (splits.x_test, splits.y_test),
    ):
        assert len(x) == len(y) > 0
        assert x.dtype == np.float32 and x.shape[1] == problem.n_inputs
        assert y.shape[1] == problem.n_outputs
        assert np.isfinite(x).all() and np.isfinite(y).all()
    json.dumps(data.schema(), allow_nan=False)  # export stores it as strict JSON


@given(content=CSV_CONTENTS, target=TARGETS, task=FORCED)
@FAST
def test_prepare_succeeds_or_fails_cleanly(
    content: bytes, target: str | None, task: str | None
) -> None:
    with workdir() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (folder / "data.csv").write_bytes(content)
        _check_prepared(str(folder / "data.csv"), target, task)
        assert sorted(os.listdir(folder)) == ["data.csv"]  # nothing else written


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else {math.inf: "inf", -math.inf: "-inf"}.get(value, repr(value))
        )
    if isinstance(value, str):
        return json.dumps(value)  # JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(map(_toml_value, value)) + "]"
    return str(value)


JUNK = st.one_of(
    st.integers(-5, 60),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=8),
    st.sampled_from(["tpe", "median", "dense", "binary", "accuracy", "relu", "mse", "nope"]),
    st.lists(
        st.one_of(st.integers(-2, 2048), st.floats(-1.0, 2.0), st.text(max_size=3)), max_size=3
    ),
)


def _pair(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(values, min_size=2, max_size=2).map(sorted)


def _names(valid: tuple[str, ...] | list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(valid), min_size=1, max_size=3)


ALL_LOSSES = sorted({loss for losses in LOSSES_BY_TASK.values() for loss in losses})
# Plausible values for every key; each example then breaks at most one of them.
STUDY_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "trials": st.integers(1, 5),
    "seed": st.integers(0, 2**31 - 1),
    "sampler": st.sampled_from(["tpe", "random", "cmaes", "gp", "qmc"]),
    "pruner": st.sampled_from(["median", "hyperband", "halving", "none"]),
    "space": st.just("dense"),
    "metric": st.sampled_from(["accuracy", "auc", "f1", "rmse", "mae", "mape"]),
    "task": st.sampled_from(TASKS),
    "timeout": st.floats(0.1, 1e4),
    "max_epochs": st.integers(1, 4),
    "workers": st.integers(1, 4),
    "max_failures": st.integers(1, 4),
    "recycle_after": st.integers(1, 4),
    "max_rss_mb": st.floats(1.0, 1e5),
    "study": st.sampled_from(["s", "a b", "ünï"]),
}
SPACE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "n_layers": _pair(st.integers(1, 16)),
    "units": _pair(st.sampled_from([8, 16, 32, 64, 128, 256, 512, 1024])),
    "learning_rate": _pair(st.floats(1e-7, 10.0)),
    "epochs": _pair(st.integers(1, 10_000)),
    "dropout": _pair(st.floats(0.0, 0.9)),
    "batch_sizes": st.lists(st.sampled_from([1, 8, 32, 64, 8192]), min_size=1, max_size=3),
    "activations": _names(ACTIVATIONS),
    "initializers": _names(INITIALIZERS),
    "optimizers": _names(OPTIMIZERS),
    "losses": _names(ALL_LOSSES),
}


@st.composite
def config_files(draw: st.DrawFn) -> str:
    """A TOML study file of plausible values with at most one key broken or unknown."""
    tables: dict[str, dict[str, Any]] = {"study": {}, "space": {}}
    for table, values in (("study", STUDY_VALUES), ("space", SPACE_VALUES)):
        keys = draw(st.lists(st.sampled_from(sorted(values)), max_size=4, unique=True))
        tables[table] = {key: draw(values[key]) for key in keys}
    table = draw(st.sampled_from(["study", "space"]))
    broken = draw(
        st.sampled_from([None, "unknown", *(STUDY_VALUES if table == "study" else SPACE_VALUES)])
    )
    if broken is not None:
        tables[table][broken if broken != "unknown" else "layers"] = draw(JUNK)
    lines = []
    for name, values in tables.items():
        lines += [f"[{name}]", *(f"{key} = {_toml_value(value)}" for key, value in values.items())]
    return "\n".join(lines) + "\n"


def _check_setup(config: Path, flags: dict[str, Any]) -> None:
    try:
        spec = build_spec(flags, config)
        setup = make_setup(spec)
    except TuneError as exc:
        _one_line(exc)
        event(f"refused: {type(exc).__name__}")
        return
    event("set up")
    # The baseline must be a point of the configured space, whatever the config says.
    trial = optuna.trial.FixedTrial(setup.baseline)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # FixedTrial warns when out of range
        setup.family.suggest(trial, setup.data.problem, spec.effective_space)  # type: ignore[arg-type]
    assert trial.params == setup.baseline


TINY_CSV = pd.DataFrame(
    {"x0": np.linspace(0, 1, 30), "colour": ["red", "blue", "green"] * 10, "c0": [0, 1] * 15}
).to_csv(index=False)


@given(config=config_files(), data=st.sampled_from([None, "iris", "diabetes", "tiny.csv"]))
@FAST
def test_spec_and_setup_succeed_or_fail_cleanly(config: str, data: str | None) -> None:
    with workdir() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (folder / "study.toml").write_text(config, encoding="utf-8")
        (folder / "tiny.csv").write_text(TINY_CSV, encoding="utf-8")
        _check_setup(folder / "study.toml", {"data": data})
        assert sorted(os.listdir(folder)) == ["study.toml", "tiny.csv"]  # no store was opened


@given(text=st.text(max_size=200))
@FAST
def test_any_config_text_is_read_or_refused_cleanly(text: str) -> None:
    with workdir() as folder:
        path = folder / "study.toml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            build_spec({}, path)
        except TuneError as exc:
            _one_line(exc)


def _run_cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
@given(
    content=st.one_of(perturbed_frames(), perturbed_frames(), typed_frames(), ragged_rows()),
    target=TARGETS,
)
@CLI
def test_cli_succeeds_or_fails_cleanly(
    content: bytes, target: str | None, migrated_mlflow_db: Path
) -> None:
    with workdir() as folder:
        (folder / "mlruns").mkdir()
        shutil.copy(migrated_mlflow_db, folder / "mlruns" / "mlflow.db")
        storage = f"sqlite:///{folder / 'mlruns' / 'optuna.db'}"
        tracking = f"sqlite:///{folder / 'mlruns' / 'mlflow.db'}"
        (folder / "data.csv").write_bytes(content)
        args = ["run", "--data", "data.csv", "--trials", "1", "--max-epochs", "1", "--quiet",
                "--no-report"]  # fmt: skip
        args += ["--storage", storage, "--tracking-uri", tracking]
        code, out, err = _run_cli(args + (["--target", target] if target is not None else []))
        if code == 0:
            event("ran")
            assert "Traceback" not in out + err
            (name,) = optuna.get_all_study_names(storage)
            assert len(optuna.load_study(study_name=name, storage=storage).trials) == 1
        else:
            event(f"exit {code}")
            clean_error(err, out)
            stores_are_empty(storage, tracking)
