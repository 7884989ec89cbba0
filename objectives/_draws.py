"""Several draws of one configuration, trained on the same rows and averaged into one model.

A draw is one initialisation and batch order, fixed by its seed. The best trial's model is a
draw chosen among many for scoring best, and a fresh draw of its configuration does not repeat
that luck (bench/refit_draws.md); the mean of a few draws gives some of it back without
choosing (bench/ensemble.md). tune's refits train this way (search/run/_refit.py, and
`tune export --refit`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from objectives._average import average_models
from objectives._build import build_model
from objectives._session import fresh_session
from objectives._train import train_model

if TYPE_CHECKING:
    import keras

    from objectives._data import Splits
    from objectives._metrics import Metric
    from spaces import Problem

DRAWS = 3
# Draw k trains with the first draw's seed plus k strides, far from any trial's seed.
DRAW_STRIDE = 100_003


def train_draws(
    params: dict[str, Any],
    problem: Problem,
    splits: Splits,
    family: str,
    seed: int,
    draws: int = DRAWS,
    metric: Metric | None = None,
) -> keras.Model:
    """`params` built and trained `draws` times on `splits` (draw k with `seed` plus k
    strides), averaged into one model; `metric` is compiled into each draw (see build_model)."""
    models = []
    for k in range(draws):
        fresh_session(seed + k * DRAW_STRIDE)
        model = build_model(params, problem, metric, family=family)
        train_model(model, splits, params)
        models.append(model)
    return average_models(models, name="refit")
