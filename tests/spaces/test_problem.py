"""Problem: the shape of a task as spaces and builders see it."""

from __future__ import annotations

import pytest

from spaces import TASKS, Problem


@pytest.mark.parametrize("task", TASKS)
def test_n0_follows_the_power_of_two_rule(task: str) -> None:
    assert Problem(task, n_inputs=30, n_outputs=1).n0 == 64
    assert Problem(task, n_inputs=1, n_outputs=1).n0 == 8


def test_unknown_task_is_refused() -> None:
    with pytest.raises(ValueError, match=r"task must be one of .*, but got task='ranking'"):
        Problem("ranking", n_inputs=3, n_outputs=1)


@pytest.mark.parametrize(("n_inputs", "n_outputs"), [(0, 1), (3, 0), (-1, 2)])
def test_widths_must_be_positive(n_inputs: int, n_outputs: int) -> None:
    with pytest.raises(ValueError, match="n_inputs and n_outputs must be positive"):
        Problem("binary", n_inputs=n_inputs, n_outputs=n_outputs)


def test_an_image_shape_must_hold_the_inputs() -> None:
    assert Problem("binary", n_inputs=12, n_outputs=1, image_shape=(2, 2, 3)).image_shape
    with pytest.raises(ValueError, match=r"image_shape \(2, 2, 1\) must hold n_inputs=12"):
        Problem("binary", n_inputs=12, n_outputs=1, image_shape=(2, 2, 1))
