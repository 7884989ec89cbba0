"""A model searched on JAX predicts the same values under TensorFlow and under PyTorch.

This test process loaded Keras on TensorFlow long ago, so the JAX study (run, export and
its own predictions) and the PyTorch predictions each run in a fresh interpreter, through
the same `main` as the `tune` command; the TensorFlow predictions run here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from objectives import Preprocessor, load_frame
from tests.conftest import TINY_SPACE
from tests.search.built import make_stores

pytestmark = [pytest.mark.slow, pytest.mark.processes]

REPO_ROOT = Path(__file__).resolve().parents[3]
DATASETS = ("iris", "diabetes")  # a classification and a regression in the target's units
# Float32 on three backends: the same weights, summed in other orders.
RTOL = 1e-5
# `tune` commands in a fresh interpreter, each one's arguments a JSON list in argv; it stops
# at the first failure and says which backend Keras loaded and whether TensorFlow was imported.
COMMANDS = """
import json, sys
from search.cli import main
for args in json.loads(sys.argv[1]):
    code = main(args)
    if code:
        sys.exit(code)
import keras
print("BACKEND", keras.backend.backend(), "TENSORFLOW", "tensorflow" in sys.modules)
"""


@dataclass(frozen=True)
class JaxExports:
    root: Path
    stdout: str = ""  # what the JAX process printed

    def export(self, data: str) -> Path:
        return self.root / f"export-{data}"

    def predictions(self, backend: str, data: str) -> Path:
        return self.root / f"{backend}-{data}.csv"


def tune_commands(work: Path, *commands: list[str]) -> str:
    """Run `tune` COMMANDS in one fresh interpreter in `work`; its standard output."""
    done = subprocess.run(
        [sys.executable, "-c", COMMANDS, json.dumps(commands)],
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def predict_command(exports: JaxExports, backend: str, data: str) -> list[str]:
    out = exports.predictions(backend, data)
    return ["predict", str(exports.export(data)), "--data", data, "--out", str(out),
            "--backend", backend]  # fmt: skip


@pytest.fixture(scope="module")
def jax_exports(
    tmp_path_factory: pytest.TempPathFactory, migrated_mlflow_db: Path
) -> Iterator[JaxExports]:
    """One-trial JAX studies of iris and diabetes, exported, and their predictions on JAX."""
    root = tmp_path_factory.mktemp("cross-backend")
    stores = make_stores(root / "mlruns", migrated_mlflow_db)
    exports = JaxExports(root)
    commands = []
    for data in DATASETS:
        config = root / f"{data}.toml"
        config.write_text(TINY_SPACE.replace('data = "iris"', f'data = "{data}"'))
        commands += [
            ["run", "--config", str(config), "--backend", "jax", "--trials", "1", "--quiet",
             "--no-report", *stores.flags()],
            ["export", data, "--out", str(exports.export(data)), *stores.flags()],
            predict_command(exports, "jax", data),
        ]  # fmt: skip
    yield replace(exports, stdout=tune_commands(root, *commands))


@pytest.fixture(scope="module")
def torch_predictions(jax_exports: JaxExports) -> str:
    """The same exports predicted under PyTorch, in one fresh interpreter."""
    commands = [predict_command(jax_exports, "torch", data) for data in DATASETS]
    return tune_commands(jax_exports.root, *commands)


def _outputs(path: Path) -> np.ndarray:
    """The model's outputs as the CSV gives them: probabilities, or the regression's value."""
    frame = pd.read_csv(path)
    probabilities = [c for c in frame.columns if c.startswith("proba_")]
    return frame[probabilities or list(frame.columns)].to_numpy(dtype=np.float64)


def test_the_jax_study_stayed_on_jax_and_recorded_it(jax_exports: JaxExports) -> None:
    # The SavedModel came from a TensorFlow child; the JAX process never imported TensorFlow.
    assert "BACKEND jax TENSORFLOW False" in jax_exports.stdout
    for data in DATASETS:
        folder = jax_exports.export(data)
        meta = json.loads((folder / "tune.json").read_text(encoding="utf-8"))
        assert meta["backend"] == "jax"
        assert meta["saved_model"] == "saved_model"
        assert (folder / "saved_model" / "saved_model.pb").is_file()


@pytest.mark.parametrize("data", DATASETS)
def test_tensorflow_predicts_what_jax_predicted(tune, jax_exports: JaxExports, data) -> None:
    tune(*predict_command(jax_exports, "tensorflow", data))
    np.testing.assert_allclose(
        _outputs(jax_exports.predictions("tensorflow", data)),
        _outputs(jax_exports.predictions("jax", data)),
        rtol=RTOL,
    )


@pytest.mark.parametrize("data", DATASETS)
def test_pytorch_predicts_what_jax_predicted(
    jax_exports: JaxExports, torch_predictions: str, data
) -> None:
    assert "BACKEND torch TENSORFLOW False" in torch_predictions
    np.testing.assert_allclose(
        _outputs(jax_exports.predictions("torch", data)),
        _outputs(jax_exports.predictions("jax", data)),
        rtol=RTOL,
    )


@pytest.mark.parametrize("data", DATASETS)
def test_the_saved_model_serves_what_jax_predicted(jax_exports: JaxExports, data) -> None:
    import tensorflow as tf

    folder = jax_exports.export(data)
    meta = json.loads((folder / "tune.json").read_text(encoding="utf-8"))
    preprocessor = Preprocessor.from_dict(meta["preprocessor"])
    x = preprocessor.transform(load_frame(data)[preprocessor.columns]).astype(np.float32)
    # Held in a name: the served function only borrows the loaded object's variables.
    loaded = tf.saved_model.load(str(folder / "saved_model"))
    np.testing.assert_allclose(
        loaded.serve(x).numpy(), _outputs(jax_exports.predictions("jax", data)), rtol=RTOL
    )


def test_regression_predictions_are_in_the_targets_units(jax_exports: JaxExports) -> None:
    # The diabetes scores have mean 152 and standard deviation 77; a model whose outputs were
    # left standardised would predict around 0, and 1e-5 of 152 is what float32 allows.
    target = load_frame("diabetes")["target"]
    predicted = _outputs(jax_exports.predictions("jax", "diabetes"))[:, 0]
    assert abs(predicted.mean() - target.mean()) < target.std()
