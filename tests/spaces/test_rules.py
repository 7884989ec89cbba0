"""The lecture's rules as data: the power-of-two rule, the task table and the losses per task."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from spaces import (
    LOSSES_BY_TASK,
    ROBUST_TO_OUTLIERS,
    TASK_TABLE,
    TASKS,
    power_of_two_rule,
    units_range,
    valid_losses,
)
from spaces._rules import MAPE_MIN_ABS_TARGET, UNITS_MAX, UNITS_MIN


@pytest.mark.parametrize(
    ("n_inputs", "n0"),
    [
        (30, 64),  # the lecture's example: 30 inputs -> 60 -> 64
        (4, 8),  # iris: 8 is already a power of two
        (13, 32),  # wine: 26 -> 32
        (10, 16),  # diabetes: 20 -> 16 (log2 20 = 4.32)
        (64, 128),  # digits
        (100, 256),  # 200 -> 256 (log2 200 = 7.64)
        (90, 128),  # 180 -> 128 (log2 180 = 7.49)
        (300, 512),
    ],
)
def test_power_of_two_rule(n_inputs: int, n0: int) -> None:
    assert power_of_two_rule(n_inputs) == n0


# The README's table: the power of two nearest to 2 x inputs by plain distance, clamped.
@pytest.mark.parametrize(
    ("n_inputs", "n0"),
    [
        (1, 8),  # 2 -> 2, clamped up to 8
        (5, 8),  # 10: 8 is 2 away, 16 is 6
        (23, 32),  # 46: 32 is 14 away, 64 is 18 (a log scale would say 64)
        (30, 64),  # 60: 64 is 4 away, 32 is 28
        (100, 256),  # 200: 256 is 56 away, 128 is 72
        (1000, 1024),  # 2000: 2048 is 48 away, clamped down to 1024
    ],
)
def test_power_of_two_rule_by_plain_distance(n_inputs: int, n0: int) -> None:
    assert power_of_two_rule(n_inputs) == n0


@pytest.mark.parametrize(("n_inputs", "n0"), [(12, 32), (48, 128), (6, 16)])
def test_power_of_two_rule_breaks_ties_upwards(n_inputs: int, n0: int) -> None:
    # 24 is 8 from 16 and 8 from 32; 96 is 32 from 64 and from 128; 12 is 4 from 8 and 16.
    assert power_of_two_rule(n_inputs) == n0


@pytest.mark.parametrize("n_inputs", range(1, 600))
def test_power_of_two_rule_no_other_power_of_two_is_nearer(n_inputs: int) -> None:
    n0 = power_of_two_rule(n_inputs)
    if UNITS_MIN < n0 < UNITS_MAX:
        distance = abs(2 * n_inputs - n0)
        assert all(abs(2 * n_inputs - 2**k) >= distance for k in range(12))


@pytest.mark.parametrize(("n_inputs", "n0"), [(1, UNITS_MIN), (2, UNITS_MIN), (600, UNITS_MAX)])
def test_power_of_two_rule_clamps_to_8_through_1024(n_inputs: int, n0: int) -> None:
    assert power_of_two_rule(n_inputs) == n0
    assert power_of_two_rule(10**6) == UNITS_MAX


@pytest.mark.parametrize("n_inputs", range(1, 700, 7))
def test_power_of_two_rule_gives_a_clamped_power_of_two(n_inputs: int) -> None:
    n0 = power_of_two_rule(n_inputs)
    assert n0 & (n0 - 1) == 0
    assert UNITS_MIN <= n0 <= UNITS_MAX


@pytest.mark.parametrize("n_inputs", [0, -1, -30])
def test_power_of_two_rule_rejects_no_inputs(n_inputs: int) -> None:
    with pytest.raises(
        ValueError, match=f"n_inputs must be at least 1, but got n_inputs={n_inputs}"
    ):
        power_of_two_rule(n_inputs)


@pytest.mark.parametrize(
    ("n0", "expected"),
    [
        (64, (16, 256)),
        (8, (8, 32)),
        (16, (8, 64)),
        (32, (8, 128)),
        (512, (128, 1024)),
        (1024, (256, 1024)),
    ],
)
def test_units_range_is_a_quarter_to_four_times_n0_clamped(
    n0: int, expected: tuple[int, int]
) -> None:
    assert units_range(n0) == expected


def test_task_table_matches_the_lecture_line_by_line() -> None:
    lecture = {
        "regression": ("linear", "mse"),
        "binary": ("sigmoid", "binary_crossentropy"),
        "multiclass": ("softmax", "categorical_crossentropy"),
        "multilabel": ("sigmoid", "binary_crossentropy"),
    }
    assert set(TASK_TABLE) == set(TASKS) == set(lecture)
    for task, (activation, loss) in lecture.items():
        assert TASK_TABLE[task].output_activation == activation, task
        assert TASK_TABLE[task].loss == loss, task


def test_losses_by_task_match_the_issue() -> None:
    assert set(LOSSES_BY_TASK["regression"]) == {"mse", "mae", "huber", "log_cosh", "mape"}
    assert set(LOSSES_BY_TASK["binary"]) == {"binary_crossentropy", "binary_focal_crossentropy"}
    assert set(LOSSES_BY_TASK["multiclass"]) == {
        "categorical_crossentropy",
        "categorical_focal_crossentropy",
    }
    assert set(LOSSES_BY_TASK["multilabel"]) == {
        "binary_crossentropy",
        "binary_focal_crossentropy",
    }


@pytest.mark.parametrize("task", TASKS)
def test_canonical_loss_comes_first(task: str) -> None:
    assert LOSSES_BY_TASK[task][0] == TASK_TABLE[task].loss
    assert valid_losses(task, 1.0)[0] == TASK_TABLE[task].loss


_TARGETS = {
    "regression": np.array([[1.0], [2.0], [3.0], [4.0]]),
    "binary": np.array([[0.0], [1.0], [1.0], [0.0]]),
    "multiclass": np.eye(3)[[0, 1, 2, 1]],
    "multilabel": np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
}


@pytest.mark.parametrize(("task", "loss"), [(t, loss) for t in TASKS for loss in LOSSES_BY_TASK[t]])
def test_every_loss_name_is_a_keras_loss(task: str, loss: str) -> None:
    y = _TARGETS[task].astype("float32")
    p = np.full_like(y, 1 / 3 if task == "multiclass" else 0.4)
    value = keras.ops.convert_to_numpy(keras.losses.get(loss)(y, p))
    assert value.shape == (4,)  # one value per sample
    assert np.all(np.isfinite(value)) and np.all(value > 0)


def test_mape_only_when_no_target_is_near_zero() -> None:
    assert "mape" in valid_losses("regression", 1.0)
    assert "mape" in valid_losses("regression", MAPE_MIN_ABS_TARGET)
    assert "mape" not in valid_losses("regression", 0.0)
    assert "mape" not in valid_losses("regression", MAPE_MIN_ABS_TARGET / 2)
    assert "mape" not in valid_losses("regression", None)  # unknown: assume the worst
    assert set(valid_losses("regression", 1.0)) - set(valid_losses("regression", 0.0)) == {"mape"}


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_classification_losses_ignore_the_target_magnitude(task: str) -> None:
    assert valid_losses(task, None) == LOSSES_BY_TASK[task]
    assert valid_losses(task, 5.0) == LOSSES_BY_TASK[task]


def test_mae_and_mape_are_robust_to_outliers_and_mse_is_not() -> None:
    assert ROBUST_TO_OUTLIERS["mae"] is True
    assert ROBUST_TO_OUTLIERS["mape"] is True
    assert ROBUST_TO_OUTLIERS["mse"] is False
    assert set(ROBUST_TO_OUTLIERS) == set(LOSSES_BY_TASK["regression"])


def test_robustness_claim_holds_numerically() -> None:
    # One outlier among four residuals: it dominates MSE but not MAE.
    y = np.array([[1.0], [1.0], [1.0], [1.0]], dtype="float32")
    p = np.array([[1.1], [0.9], [1.1], [11.0]], dtype="float32")
    share = {}
    for name in ("mse", "mae"):
        loss = keras.losses.get(name)
        total = float(keras.ops.convert_to_numpy(loss(y, p)).sum())
        outlier = float(keras.ops.convert_to_numpy(loss(y[3:], p[3:])).sum())
        share[name] = outlier / total
    assert share["mse"] > 0.99
    assert share["mae"] < 0.99 * share["mse"]
