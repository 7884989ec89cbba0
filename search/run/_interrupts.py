"""A Ctrl-C that a library turns into its own error still stops the study.

TensorFlow's pybind11 layer can replace a KeyboardInterrupt raised inside one of its calls
with a RuntimeError ("error_already_set: MISMATCH ... REPLACED BY KeyboardInterrupt"); the
trial then failed like any other and the study went on. While trials run, SIGINT is also
remembered here, so the objective can tell a Ctrl-C from the error it became.

Some Ctrl-Cs never reach tune's code, only stderr. One that lands in a garbage-collector
callback (JAX installs one) is "ignored" by Python and printed through `sys.unraisablehook`.
One that lands in Python code that C++ called back can be printed by that C++ (PyErr_Print,
through `sys.excepthook`) and dropped: as a `--workers 2` run stopped, stderr once got a lone
traceback in TensorFlow's `_tf_core_flatten`, "SystemError: <built-in function __import__>
returned a result with an exception set". Remembered, each stops the study all the same, so
both hooks drop what a Ctrl-C caused.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

# What libraries turn a KeyboardInterrupt raised inside their calls into (see above).
CTRL_C_DISGUISES = (RuntimeError, SystemError)

_pressed = threading.Event()
_deferred = threading.Event()


def _remember(signum: int, frame: FrameType | None) -> None:
    _pressed.set()
    if not _deferred.is_set():
        raise KeyboardInterrupt


def defer_ctrl_c() -> None:
    """From now until `raise_deferred_ctrl_c`, a Ctrl-C is only remembered.

    Called as a trial's objective returns: Optuna then records the outcome, and a
    KeyboardInterrupt inside that write leaves its `_run_trial` with an UnboundLocalError
    instead (Optuna 5.1), and the trial RUNNING.
    """
    _deferred.set()


def stop_deferring() -> None:
    """A Ctrl-C raises KeyboardInterrupt again; one remembered meanwhile stays remembered."""
    _deferred.clear()


def raise_deferred_ctrl_c(*_: object) -> None:
    """Raise a Ctrl-C remembered while deferred; usable as the study's last callback."""
    stop_deferring()
    if _pressed.is_set():
        raise KeyboardInterrupt


@contextmanager
def remembering_ctrl_c() -> Iterator[None]:
    """Within this block, a Ctrl-C raises KeyboardInterrupt as usual and is remembered.

    Leaves SIGINT alone where Python's default handler is not in place (an ignored SIGINT,
    a handler of the embedding program) or outside the main thread.
    """
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield  # inside an outer block, a press it remembered stays remembered
        return
    _pressed.clear()
    _deferred.clear()
    signal.signal(signal.SIGINT, _remember)
    previous_unraisable, previous_except = sys.unraisablehook, sys.excepthook
    sys.unraisablehook = _unless_ctrl_c_unraisable(previous_unraisable)
    sys.excepthook = _unless_ctrl_c_except(previous_except)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.unraisablehook, sys.excepthook = previous_unraisable, previous_except


def is_ctrl_c(error: BaseException | None) -> bool:
    """Whether an error is a Ctrl-C, or what a library made of one pressed in this block."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        if _pressed.is_set() and isinstance(error, CTRL_C_DISGUISES):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _unless_ctrl_c_unraisable(hook: Callable[[Any], object]) -> Callable[[Any], None]:
    def quiet(unraisable: Any) -> None:
        if not is_ctrl_c(unraisable.exc_value):
            hook(unraisable)

    return quiet


def _unless_ctrl_c_except(hook: Callable[..., object]) -> Callable[..., None]:
    def quiet(kind: type[BaseException], error: BaseException, trace: Any) -> None:
        if not is_ctrl_c(error):
            hook(kind, error, trace)

    return quiet


def ctrl_c_pressed() -> bool:
    """Whether Ctrl-C was pressed in the current `remembering_ctrl_c` block."""
    return _pressed.is_set()
