"""The samplers `--sampler` offers, each seeded so a study can be replayed."""

from __future__ import annotations

import zlib
from collections.abc import Callable

import optuna

from spaces import ConfigError, check_choice


def _gp(seed: int) -> optuna.samplers.BaseSampler:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            "the gp sampler needs PyTorch; install it with `pip install -e '.[gp]'` in tune's "
            "folder, or choose --sampler tpe."
        ) from exc
    return optuna.samplers.GPSampler(seed=seed)


# Below 2**31, like the study seed (NumPy's generators take seeds below 2**32).
MAX_SAMPLER_SEED = 2**31 - 1

SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    # CMA-ES handles only numeric parameters; the categorical ones fall back to random.
    "cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False),
    "gp": _gp,
    "qmc": lambda seed: optuna.samplers.QMCSampler(seed=seed, warn_independent_sampling=False),
}


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """A seeded sampler by name; an unknown name fails with the list of valid ones."""
    check_choice("sampler", name, SAMPLERS)
    return SAMPLERS[name](seed)


def process_seed(seed: int, fresh: bool, owner: str) -> int:
    """The sampler seed of one `tune run` process on a study.

    The run that starts a study samples with the study's seed, so a study on one machine
    replays exactly. A process joining a study that others work on gets a seed of its own,
    derived from the study's seed and the process (`owner`: host, pid, start time), so it
    does not replay the points another process sampled while TPE was still starting up.
    """
    if fresh:
        return seed
    return (seed + zlib.crc32(owner.encode())) % MAX_SAMPLER_SEED
