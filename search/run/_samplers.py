"""The samplers `--sampler` offers, each seeded so a study can be replayed."""

from __future__ import annotations

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
