"""A Ctrl-C that a library turns into its own error is still seen as a Ctrl-C."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

import optuna
import pytest

from search.run._interrupts import (
    ctrl_c_pressed,
    defer_ctrl_c,
    raise_deferred_ctrl_c,
    remembering_ctrl_c,
    stop_deferring,
)


def _library_call_that_swallows_ctrl_c() -> None:
    # What TensorFlow's pybind11 layer does to a KeyboardInterrupt raised inside a call.
    try:
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):  # bytecode boundaries, for the handler to run
            pass
    except KeyboardInterrupt as exc:
        raise RuntimeError("error_already_set: REPLACED BY KeyboardInterrupt") from exc


def test_a_ctrl_c_turned_into_another_error_is_remembered() -> None:
    with remembering_ctrl_c():
        assert not ctrl_c_pressed()
        with pytest.raises(RuntimeError):
            _library_call_that_swallows_ctrl_c()
        assert ctrl_c_pressed()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with remembering_ctrl_c():
        assert not ctrl_c_pressed()  # each block starts afresh


def test_an_ignored_sigint_is_left_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with remembering_ctrl_c():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


class _RaisesWhenCollected:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __del__(self) -> None:
        raise self.error  # Python cannot raise here: it hands the error to sys.unraisablehook


def test_a_ctrl_c_python_ignored_is_not_printed_and_other_errors_still_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: seen.append(u.exc_value))
    with remembering_ctrl_c():
        _RaisesWhenCollected(KeyboardInterrupt())
        _RaisesWhenCollected(ValueError("a real problem"))
    assert [type(e) for e in seen] == [ValueError]
    _RaisesWhenCollected(KeyboardInterrupt())  # outside the block the hook is Python's again
    assert [type(e) for e in seen] == [ValueError, KeyboardInterrupt]


def _c_code_that_runs_python_and_prints_its_error(kind: str) -> None:
    # As C++ that calls back into Python does when the callback raises: PyErr_Print, which
    # hands the error to sys.excepthook and goes on.
    ctypes.pythonapi.PyRun_SimpleString(f"raise {kind}('raised in a callback')".encode())


def test_a_ctrl_c_that_c_code_printed_is_not_printed_and_other_errors_still_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    printed: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, error, trace: printed.append(kind))
    unraisable: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(u.exc_value))
    with remembering_ctrl_c():
        _c_code_that_runs_python_and_prints_its_error("SystemError")  # before any Ctrl-C
        with pytest.raises(RuntimeError):
            _library_call_that_swallows_ctrl_c()
        for kind in ("SystemError", "RuntimeError", "KeyboardInterrupt", "ValueError"):
            _c_code_that_runs_python_and_prints_its_error(kind)
        _RaisesWhenCollected(SystemError("returned a result with an exception set"))
        _RaisesWhenCollected(ValueError("a real problem"))
        assert ctrl_c_pressed()
    assert printed == [SystemError, ValueError]
    assert [type(e) for e in unraisable] == [ValueError]
    _c_code_that_runs_python_and_prints_its_error("SystemError")  # Python's hook again
    assert printed == [SystemError, ValueError, SystemError]


def test_an_inner_block_keeps_what_the_outer_one_remembered() -> None:
    with remembering_ctrl_c():
        with pytest.raises(RuntimeError):
            _library_call_that_swallows_ctrl_c()
        with remembering_ctrl_c():  # the trial loop inside the CLI's block
            assert ctrl_c_pressed()


def test_a_ctrl_c_while_optuna_records_a_trial_is_raised_after_it() -> None:
    # A KeyboardInterrupt inside Optuna's write of a trial's outcome breaks its _run_trial.
    study = optuna.create_study()
    recorded: list[str] = []

    def objective(trial: optuna.Trial) -> float:
        stop_deferring()
        try:
            return 1.0
        finally:
            defer_ctrl_c()
            os.kill(os.getpid(), signal.SIGINT)  # lands as Optuna is about to record the value
            for _ in range(1000):
                pass

    def record(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        recorded.append(trial.state.name)

    with remembering_ctrl_c(), pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=5, callbacks=[record, raise_deferred_ctrl_c])
    assert recorded == ["COMPLETE"]  # recorded whole, then stopped before another trial
    assert [t.state.name for t in study.trials] == ["COMPLETE"]
