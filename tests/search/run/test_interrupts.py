"""A Ctrl-C that a library turns into its own error is still seen as a Ctrl-C."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from search.run._interrupts import ctrl_c_pressed, remembering_ctrl_c


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


def test_an_inner_block_keeps_what_the_outer_one_remembered() -> None:
    with remembering_ctrl_c():
        with pytest.raises(RuntimeError):
            _library_call_that_swallows_ctrl_c()
        with remembering_ctrl_c():  # the trial loop inside the CLI's block
            assert ctrl_c_pressed()
