"""The TF SavedModel of an export, written whichever Keras backend trained the model.

Keras writes a SavedModel from the TensorFlow backend only (JAX's goes through jax2tf into
XLA call ops, PyTorch's needs torch_xla). Where another backend trained the model, a child
process reloads the `.keras` file under the TensorFlow backend and exports it from there:
the same weights, as plain TensorFlow graph ops that TF Serving runs.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import keras

from spaces import TuneError

# The child's whole program: argv[1] the .keras file, argv[2] the SavedModel folder.
_EXPORT_UNDER_TENSORFLOW = """
import sys, keras
keras.saving.load_model(sys.argv[1], safe_mode=True).export(sys.argv[2], verbose=False)
"""
CHILD_TIMEOUT_S = 600


def tensorflow_installed() -> bool:
    """Whether a SavedModel can be written here at all."""
    return importlib.util.find_spec("tensorflow") is not None


def write_saved_model(model: keras.Model, model_path: Path, folder: Path) -> None:
    """Export `model` (saved at `model_path`) as a TF SavedModel in `folder`.

    Raises:
        TuneError: The child process failed to export.
    """
    if keras.backend.backend() == "tensorflow":
        model.export(str(folder), verbose=False)
        return
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-c", _EXPORT_UNDER_TENSORFLOW, str(model_path), str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else f"exit code {done.returncode}"
        raise TuneError(
            "writing the TF SavedModel under the TensorFlow backend failed: "
            f"{reason}; nothing was written."
        )
