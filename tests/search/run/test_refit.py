"""The refit's guard: kept only if it fits its own training rows at least as well as the
trial's model fits them (search/run/_refit.py)."""

from __future__ import annotations

import pytest

from search.run._refit import holds


@pytest.mark.parametrize(
    ("refit_fit", "own_fit", "direction", "kept"),
    [
        (0.99, 0.97, "maximize", True),
        (0.97, 0.97, "maximize", True),  # a tie keeps the refit: it saw more rows
        (0.90, 0.97, "maximize", False),
        (41.0, 45.0, "minimize", True),
        (45.0, 45.0, "minimize", True),
        (52.0, 45.0, "minimize", False),
    ],
)
def test_a_refit_is_kept_unless_it_fits_worse(
    refit_fit: float, own_fit: float, direction: str, kept: bool
) -> None:
    assert holds(refit_fit, own_fit, direction) is kept
