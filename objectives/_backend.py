"""What differs between Keras's backends for training: which ones use TensorFlow at all."""

from __future__ import annotations

import sys

import keras


def uses_tensorflow() -> bool:
    """Whether Keras runs on TensorFlow in this process."""
    return keras.backend.backend() == "tensorflow"


def keep_tensorflow_unloaded() -> None:
    """On JAX and PyTorch, have Keras treat TensorFlow as absent while it is not loaded.

    Keras imports TensorFlow wherever it is installed to seed tf.data (`set_random_seed`)
    and to look for TensorFlow shapes when it saves a model: 5-7 s of start-up and its
    memory in every process, for tf.data pipelines and tensors these backends never see
    here. Keras only asks its lazy module's `available` there; anything that needs
    TensorFlow itself (the SavedModel export) still imports it on use.
    """
    if uses_tensorflow() or "tensorflow" in sys.modules:
        return
    try:
        from keras.src.utils.module_utils import tensorflow
    except ImportError:  # moved in another Keras version: TensorFlow then loads, as before
        return
    tensorflow._available = False
