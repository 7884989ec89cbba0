"""Trial tickets shared by the processes of a `--workers N` run, and the callback that takes them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import optuna
import pytest

from search.run._guards import FailureGuard
from search.run._helpers import CONTEXT, Tickets, helper_threads, started_helpers
from search.run._loop import NextTicket


def _take_all(tickets: Tickets, taken: Any) -> None:
    while tickets.take():
        with taken.get_lock():
            taken.value += 1


def test_tickets_are_taken_once_each_across_processes() -> None:
    tickets = Tickets()
    tickets.reset(500)
    taken = CONTEXT.Value("i", 0)
    processes = [CONTEXT.Process(target=_take_all, args=(tickets, taken)) for _ in range(3)]
    for process in processes:
        process.start()
    _take_all(tickets, taken)
    for process in processes:
        process.join()
    assert taken.value == 500
    assert tickets.left == 0 and not tickets.take()


def test_give_back_and_cancel() -> None:
    tickets = Tickets()
    tickets.reset(2)
    assert tickets.take() and tickets.take() and not tickets.take()
    tickets.give_back(1)
    assert tickets.left == 1
    tickets.cancel()
    assert not tickets.take()


def _study_with(tickets: Tickets, quota: int, guard: FailureGuard | None = None) -> optuna.Study:
    study = optuna.create_study()
    guards = [guard] if guard else []
    assert tickets.take()  # the caller holds the first trial's ticket, as the loop expects
    study.optimize(
        lambda trial: trial.suggest_float("x", 0, 1),
        n_trials=quota,
        callbacks=[*guards, NextTicket(tickets, quota, guards)],
        catch=(ValueError,),
    )
    return study


def test_a_process_runs_trials_while_tickets_last() -> None:
    tickets = Tickets()
    tickets.reset(5)
    assert len(_study_with(tickets, quota=50).trials) == 5
    assert tickets.left == 0


def test_a_process_stops_at_its_quota_and_leaves_the_rest() -> None:
    tickets = Tickets()
    tickets.reset(10)
    assert len(_study_with(tickets, quota=3).trials) == 3
    assert tickets.left == 7  # no ticket taken for a trial this process will not run


def test_a_tripped_guard_takes_no_further_ticket() -> None:
    tickets = Tickets()
    tickets.reset(10)
    study = optuna.create_study()
    guard = FailureGuard(2)
    assert tickets.take()

    def failing(trial: optuna.Trial) -> float:
        raise ValueError("always")

    study.optimize(
        failing,
        n_trials=50,
        callbacks=[guard, NextTicket(tickets, 50, [guard])],
        catch=(ValueError,),
    )
    assert len(study.trials) == 2 and guard.tripped
    assert tickets.left == 8


@pytest.mark.parametrize("workers", [1, 0, "2", None, True])
def test_no_helpers_for_one_worker_or_a_value_the_spec_refuses(workers: object) -> None:
    with started_helpers("tensorflow", workers) as pool:
        assert pool is None


def test_helpers_that_never_get_a_job_are_stopped() -> None:
    with started_helpers("tensorflow", 3) as pool:
        assert pool is not None and len(pool.waiting) == 2
        processes = [h.process for h in pool.waiting]
    assert all(not p.is_alive() for p in processes)
    assert pool.waiting == []


def test_threads_share_the_cores() -> None:
    assert helper_threads(1) >= helper_threads(2) >= 1
    assert helper_threads(1000) == 1


def test_a_helper_that_breaks_says_why_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from search.run import _worker

    def broken(job: Any, tickets: Tickets) -> int:
        raise RuntimeError("the store went away\n(background on this error: ...)")

    monkeypatch.setattr(_worker, "serve", broken)
    job = SimpleNamespace(token="w1-1")
    assert _worker._serve_or_say_why(job, Tickets()) == _worker.EXIT_CRASHED  # type: ignore[arg-type]
    assert capsys.readouterr().err == "error: worker w1-1: the store went away\n"
