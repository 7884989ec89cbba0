"""A Ctrl-C that a library turns into its own error still stops the study.

TensorFlow's pybind11 layer can replace a KeyboardInterrupt raised inside one of its calls
with a RuntimeError ("error_already_set: MISMATCH ... REPLACED BY KeyboardInterrupt"); the
trial then failed like any other and the study went on. While trials run, SIGINT is also
remembered here, so the objective can tell a Ctrl-C from the error it became. A Ctrl-C that
lands in a garbage-collector callback (JAX installs one) is only "ignored" by Python, with a
traceback on stderr; remembered, it stops the study all the same, so that print is dropped.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

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
    previous_hook = sys.unraisablehook
    sys.unraisablehook = _unless_ctrl_c(previous_hook)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.unraisablehook = previous_hook


def _unless_ctrl_c(hook: Callable[[Any], object]) -> Callable[[Any], None]:
    def quiet(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            hook(unraisable)

    return quiet


def ctrl_c_pressed() -> bool:
    """Whether Ctrl-C was pressed in the current `remembering_ctrl_c` block."""
    return _pressed.is_set()
