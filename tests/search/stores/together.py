"""Races on purpose: one thread per racer, all released at the same instant."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def at_once(work: Callable[[T], None], racers: Sequence[T]) -> None:
    """`work(racer)` for every racer, each in a thread of its own; returns when all are done."""
    start = threading.Barrier(len(racers))

    def race(racer: T) -> None:
        start.wait()
        work(racer)

    threads = [threading.Thread(target=race, args=(racer,)) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
