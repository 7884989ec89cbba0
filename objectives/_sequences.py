"""Sequences as rows: one column per (step, feature) value, step-major, shape in the name.

A sequence of T steps of F features is one row of T x F columns, `seq24x1_0` and on, so
rows of another shape can never pass for the ones a model was trained on, and the rnn
family (and prediction) can fold a row back into its (T, F) sequence.
"""

from __future__ import annotations

import re

_COLUMN = re.compile(r"seq(\d+)x(\d+)_\d+")

Steps = tuple[int, int]  # steps, features per step


def sequence_columns(shape: Steps) -> list[str]:
    """The columns of sequences of `shape`."""
    steps, features = shape
    return [f"seq{steps}x{features}_{i}" for i in range(steps * features)]


def sequence_shape(names: list[str]) -> Steps | None:
    """The (steps, features) that sequence columns were made for, or None for other columns."""
    found = {m.groups() for m in map(_COLUMN.fullmatch, names) if m}
    if len(found) != 1 or len(names) == 0:
        return None
    steps, features = map(int, found.pop())
    return (steps, features) if len(names) == steps * features else None
