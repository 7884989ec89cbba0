"""A fresh, seeded Keras state for each model, without losing TensorFlow's kernel cache.

`keras.backend.clear_session()` and `keras.utils.set_random_seed()` reset Keras's global
state (layer-name counters, the seed generator, the dtype policy) and seed every library;
on TensorFlow both also flush the eager kernel cache. Every trial then re-creates the
kernel of every operation it runs, in building and again in the first epoch. The flush
exists to restart the counters of stateful random kernels; Keras draws its randomness
from stateless kernels seeded by its own SeedGenerator, and tf.data traces its shuffle
afresh for every fit, so the flush buys tune nothing. Building and compiling a trial's
model took about 80 ms with it and 38 ms without (bench/trial_breakdown.py).

On JAX and PyTorch no TensorFlow state exists to reset: Keras's own reset is cheap there,
and TensorFlow is kept from loading at all (objectives/_backend.py).
"""

from __future__ import annotations

import random
import threading
from typing import Any

import keras
import numpy as np

from objectives._backend import keep_tensorflow_unloaded, uses_tensorflow


def fresh_session(seed: int, keep_kernels: bool = True) -> None:
    """Reset Keras's global state, then seed Python, NumPy, Keras and the backend.

    Args:
        seed: The seed; the same seed gives the same model and training either way.
        keep_kernels: Keep TensorFlow's kernel cache. The cache grows slowly with the
            shapes it has seen (about 0.3 MB a trial), so a long-lived process should pass
            False now and then.
    """
    seed %= 2**32
    keep_tensorflow_unloaded()
    if not (keep_kernels and _reset_keeping_kernels(seed)):
        keras.backend.clear_session(free_memory=False)
        keras.utils.set_random_seed(seed)


def _reset_keeping_kernels(seed: int) -> bool:
    """`clear_session` + `set_random_seed` on TensorFlow, less the kernel-cache flush.

    Returns False (nothing done) on another backend, or if the private state this
    relies on has moved in another Keras or TensorFlow version.
    """
    if not uses_tensorflow():
        return False
    try:
        import tensorflow as tf
        from keras.src.backend.common import global_state
        from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
        from tensorflow.python.eager import context
    except ImportError:
        return False
    eager = context.context()
    if not (hasattr(global_state, "GLOBAL_STATE_TRACKER") and hasattr(eager, "_rng")):
        return False
    global_state.GLOBAL_STATE_TRACKER = threading.local()
    global_state.GLOBAL_SETTINGS_TRACKER = threading.local()
    tf.compat.v1.reset_default_graph()
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    random.seed(seed)
    np.random.seed(seed)
    eager._seed = seed
    eager._rng = random.Random(seed)
    return True


CUSTOM_GRADIENT_PREFIX = "CustomGradient-"
# Custom gradients registered before the first call, by code other than tune's trials.
_FOREIGN_GRADIENTS: set[str] | None = None


def forget_traced_gradients() -> int:
    """Unregister the custom gradients that models traced since the last call left behind.

    In graph mode, each call of a `tf.custom_gradient` function registers its gradient in
    TensorFlow's global registry under a new name, and the gradient's closure holds the
    traced graph. Keras's traced train step makes such calls (tf.distribute's `all_reduce`)
    in every fit, so each graph-mode trial kept its whole train-step graph alive: about
    8 MB a trial (bench/memory.py --graph). A finished trial's graphs are never
    differentiated again, so their gradients can go; call this between trials, before the
    garbage collection that then frees the graphs.

    Returns:
        How many gradients were unregistered (0 on another backend, or if the private
        registry has moved in another TensorFlow version).
    """
    global _FOREIGN_GRADIENTS
    registry = _gradient_registry()
    if registry is None:
        return 0
    names = {name for name in registry if name.startswith(CUSTOM_GRADIENT_PREFIX)}
    if _FOREIGN_GRADIENTS is None:
        _FOREIGN_GRADIENTS = names
        return 0
    stale = names - _FOREIGN_GRADIENTS
    for name in stale:
        del registry[name]
    return len(stale)


def _gradient_registry() -> dict[str, Any] | None:
    if not uses_tensorflow():
        return None
    try:
        from tensorflow.python.framework import ops
    except ImportError:
        return None
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None
