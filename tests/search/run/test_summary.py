"""The summary a finished `tune run` prints, and the next commands it suggests."""

from __future__ import annotations

import shlex
from dataclasses import replace

from search.run._refit import Declined
from search.run._runner import RunResult
from search.run._summary import format_summary, next_commands
from search.stores._names import DEFAULT_STORAGE, DEFAULT_TRACKING_URI


def _result(
    study: str = "iris", storage: str = DEFAULT_STORAGE, tracking: str = DEFAULT_TRACKING_URI
) -> RunResult:
    return RunResult(
        study_name=study,
        experiment_id="1",
        parent_run_id="abc",
        tracking_uri=tracking,
        storage=storage,
        task="multiclass",
        task_reason="3 classes",
        metric="accuracy",
        direction="maximize",
        states={"COMPLETE": 2, "PRUNED": 1},
        best={"number": 1, "value": 0.9, "params": {"n_layers": 2, "learning_rate": 0.001}},
        baseline={"number": 0, "value": 0.8},
        test_score=0.85,
    )


def _printed_commands(text: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Next,")) + 1
    return [shlex.split(line) for line in lines[start:]]


def test_default_stores_need_no_flags() -> None:
    assert next_commands(_result()) == [
        ["tune", "ui"],
        ["tune", "export", "iris", "--out", "exports/iris"],
    ]


def test_other_stores_are_named_so_the_commands_work_as_printed() -> None:
    result = _result(storage="sqlite:////data/o.db", tracking="http://mlflow:5000")
    ui, export = next_commands(result)
    assert ui == ["tune", "ui", "--tracking-uri", "http://mlflow:5000"]
    assert export[export.index("--storage") + 1] == "sqlite:////data/o.db"
    assert export[export.index("--tracking-uri") + 1] == "http://mlflow:5000"


def test_printed_commands_survive_the_shell() -> None:
    result = _result(study="my study; rm -rf x", storage="sqlite:///a b/o.db")
    text = format_summary(result)
    assert _printed_commands(text) == next_commands(result)


def test_summary_shows_counts_best_baseline_and_test_score() -> None:
    text = format_summary(_result())
    assert "Study 'iris': 3 trials (2 complete, 1 pruned)" in text
    assert "Best trial #1: accuracy = 0.9000" in text
    assert "Test accuracy of the best model: 0.8500" in text
    assert "Baseline trial #0" in text


def test_a_declined_refit_says_why_and_which_model_ships() -> None:
    note = Declined(trial=1, rows=120, refit_fit=0.9, own_fit=0.975).note("accuracy")
    text = format_summary(replace(_result(), refit_declined=note))
    assert (
        "Note: the refit of trial #1 was not kept: on the 120 rows outside the test split, "
        "which it trained on, it scored accuracy 0.9000 against 0.9750 for the trial's own "
        "model, which ships instead.\nTest accuracy of the best model: 0.8500"
    ) in text


def test_an_averaged_refit_says_how_many_draws_ship_and_an_older_one_does_not() -> None:
    refit = {"trial": 1, "rows": 120, "cv": 1, "draws": 3}
    text = format_summary(replace(_result(), refit=refit))
    assert (
        "Test accuracy of the refit model (trial #1 retrained on 120 rows, every row outside "
        "the test split, the mean of 3 draws): 0.8500"
    ) in text
    older = {"trial": 1, "rows": 120, "cv": 1}  # refits logged before they were averaged
    text = format_summary(replace(_result(), refit=older))
    assert "every row outside the test split): 0.8500" in text


def test_a_kept_best_epoch_is_named_and_a_last_one_is_not() -> None:
    params = {"n_layers": 1, "epochs": 20}
    kept_best = replace(_result(), best={"number": 1, "value": 0.9, "params": params,
                                         "kept_epochs": 7})  # fmt: skip
    kept_last = replace(_result(), best={"number": 1, "value": 0.9, "params": params,
                                         "kept_epochs": 20})  # fmt: skip

    assert "  kept epoch 7 of 20, the best on validation\n" in format_summary(kept_best)
    assert "kept epoch" not in format_summary(kept_last)
