"""`tune run --backend`: which backend wins, the bad inputs, and whole studies on JAX and PyTorch.

This test process loaded Keras on TensorFlow long ago, so studies on another backend run in a
fresh interpreter each, through the same `main` as the `tune` command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from search._options import choose_backend
from search.stores._names import WORKER_ATTR
from spaces import ConfigError
from tests.search import stores_view
from tests.search.run.test_bad_input import stores_are_empty

REPO_ROOT = Path(__file__).resolve().parents[3]
TINY = ("--trials", "2", "--quiet", "--no-report")
# A `tune` in a fresh interpreter; it reports whether TensorFlow was ever imported.
PROBE = """
import sys
from search.cli import main
code = main(sys.argv[1:])
print("TENSORFLOW", "tensorflow" in sys.modules)
sys.exit(code)
"""


def tune_process(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
    """`tune ARGS` in a fresh interpreter, asserting its exit code."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == code, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.parametrize(
    ("given", "stored", "env", "chosen"),
    [
        ("torch", "jax", "jax", "torch"),  # the flag (or [study]) wins
        (None, "jax", "torch", "jax"),  # then the study's own backend on a rerun
        (None, None, "torch", "torch"),  # then KERAS_BACKEND
        (None, None, None, "tensorflow"),
    ],
)
def test_which_backend_wins(given, stored, env, chosen) -> None:
    assert choose_backend(given, env, (stored, env))[0] == chosen


def test_a_flag_that_overrides_keras_backend_says_so() -> None:
    assert choose_backend("jax", "torch", ("torch",)) == (
        "jax",
        "--backend jax overrides KERAS_BACKEND=torch",
    )
    assert choose_backend("jax", "jax", ("jax",))[1] is None


def test_the_flag_overrides_the_environment_with_a_note(
    tune, stores, tiny_config, monkeypatch
) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    result = tune("run", "--config", str(tiny_config), "--backend", "tensorflow", "--trials",
                  "1", "--quiet", "--no-report", *stores.flags())  # fmt: skip
    assert "Note: --backend tensorflow overrides KERAS_BACKEND=jax" in result.out
    study = optuna.load_study(study_name="iris", storage=stores.storage)
    assert study.user_attrs["backend"] == "tensorflow"
    [parent] = stores_view.runs(stores.tracking_uri, "iris", "study")
    assert parent.data.tags["tune.backend"] == "tensorflow"


@pytest.mark.parametrize("where", ["flag", "config"])
def test_an_unknown_backend_lists_the_valid_ones(tune, stores, tiny_config, where) -> None:
    args = ["--backend", "theano"]
    if where == "config":
        tiny_config.write_text(
            tiny_config.read_text().replace("[study]", '[study]\nbackend = "theano"')
        )
        args = []
    result = tune("run", "--config", str(tiny_config), *args, *TINY, *stores.flags(), code=2)
    assert result.err == (
        "error: 'theano' is not a valid backend. Use one of: jax, tensorflow, torch.\n"
    )
    stores_are_empty(stores.storage, stores.tracking_uri)


def test_a_missing_backend_package_names_the_install(
    tune, stores, tiny_config, monkeypatch
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # as if PyTorch were not installed
    result = tune("run", "--config", str(tiny_config), "--backend", "torch", *TINY,
                  *stores.flags(), code=2)  # fmt: skip
    assert result.err == (
        "error: the torch backend needs the 'torch' package; install it with "
        "pip install -e '.[torch]'\n"
    )
    stores_are_empty(stores.storage, stores.tracking_uri)


def test_a_spec_for_another_backend_than_the_loaded_one_is_refused(stores) -> None:
    from search.run._setup import make_setup
    from search.run._spec import StudySpec

    with pytest.raises(ConfigError, match="Keras is loaded with the tensorflow backend"):
        make_setup(StudySpec(data="iris", backend="jax"))


@pytest.mark.slow
@pytest.mark.processes
def test_a_jax_study_never_loads_tensorflow_and_keeps_its_backend(stores, tiny_config) -> None:
    done = tune_process("run", "--config", str(tiny_config), "--backend", "jax", *TINY,
                        *stores.flags())  # fmt: skip
    assert "TENSORFLOW False" in done.stdout
    trials = stores_view.trials(stores.storage, "iris")
    assert stores_view.states(trials) == {"COMPLETE": 2}
    study = optuna.load_study(study_name="iris", storage=stores.storage)
    assert study.user_attrs["backend"] == "jax"
    [parent] = stores_view.runs(stores.tracking_uri, "iris", "study")
    assert parent.data.tags["tune.backend"] == "jax"
    refused = tune_process("run", "--config", str(tiny_config), "--backend", "torch", *TINY,
                           *stores.flags(), code=2)  # fmt: skip
    assert "error: study 'iris' was made with backend='jax', not 'torch'" in refused.stderr


@pytest.mark.slow
@pytest.mark.processes
def test_two_torch_workers_share_a_study(stores, tiny_config) -> None:
    # A quota of one trial each: the launching process runs one, a helper the other.
    tune_process("run", "--config", str(tiny_config), "--backend", "torch", "--workers", "2",
                 "--recycle-after", "1", *TINY, *stores.flags())  # fmt: skip
    trials = stores_view.trials(stores.storage, "iris")
    assert stores_view.states(trials) == {"COMPLETE": 2}
    assert len({t.user_attrs[WORKER_ATTR] for t in trials}) == 2
    stores_view.assert_consistent(stores.storage, stores.tracking_uri, "iris")
    params = json.loads(json.dumps(trials[0].params))
    assert params  # the workers sampled and trained, not only failed
