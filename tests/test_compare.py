"""bench/compare.py's pure parts: targets, time to target, verdicts, resuming, the report."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import compare  # noqa: E402
from contenders import summary  # noqa: E402

MACHINE = "Intel(R) Xeon(R) Processor, 2 cores"


def cell(contender: str, curve: list[list[float]], **extra: Any) -> dict[str, Any]:
    return {
        "dataset": "wine", "seed": 0, "contender": contender, "budget_s": 60.0,
        "metric": "accuracy", "holdout_rows": 36, "status": "ok", "curve": curve,
        "wall_s": 70.0, "trials": 5, "fits": 5, "fits_per_min": 4.3, "peak_rss_mb": 900.0,
        "machine": MACHINE, "versions": "Python 3.11.7; keras 3.15.1", **extra,
    }  # fmt: skip


CELLS = [
    cell("tune", [[20.0, 0.90], [35.0, 0.97], [50.0, 1.0]]),
    cell("kt-random", [[12.0, 0.94], [40.0, 0.97]]),
    cell("kt-hyperband", [[15.0, 0.96]]),
    cell("kt-bayesian", [], status="failed", reason="exit 1: boom"),
    cell("optuna-loop", [[30.0, 0.93]]),
]


def test_target_is_the_best_kerastuner_final_score() -> None:
    assert summary.target(CELLS, "wine", 0) == 0.97
    assert summary.best_kerastuner(CELLS, "wine", 0)["contender"] == "kt-random"  # type: ignore[index]
    assert summary.target(CELLS, "wine", 1) is None


def test_time_to_target_takes_the_first_model_that_reaches_it() -> None:
    assert (
        summary.time_to_target([[20.0, 0.9], [35.0, 0.97], [50.0, 1.0]], 0.97, "accuracy") == 35.0
    )
    assert summary.time_to_target([[30.0, 0.93]], 0.97, "accuracy") is None
    # A lower RMSE is better.
    assert summary.time_to_target([[10.0, 5.0], [20.0, 3.0]], 4.0, "rmse") == 20.0


@pytest.mark.parametrize(
    ("mine", "theirs", "metric", "expected"),
    [
        (0.97, 0.98, "accuracy", "tie"),  # under one of 36 rows apart
        (0.95, 0.98, "accuracy", "loss"),
        (1.0, 0.97, "accuracy", "win"),
        (3.0, 4.0, "rmse", "win"),
        (4.0, 4.0, "rmse", "tie"),
    ],
)
def test_verdict(mine: float, theirs: float, metric: str, expected: str) -> None:
    assert summary.verdict(mine, theirs, metric, 36) == expected


def test_recorded_cells_are_skipped_when_resuming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text("\n".join(json.dumps(c) for c in CELLS[:2]) + "\n")
    monkeypatch.setattr(compare, "RESULTS", results)
    left = compare.pending(compare.recorded(), ["wine"], [0], 60.0, MACHINE)
    assert ("wine", 0, "tune") not in left and ("wine", 0, "kt-random") not in left
    assert len(left) == len(compare.CONTENDERS) - 2
    # Another budget is another cell, and so is another machine: its timings do not compare.
    assert len(compare.pending(compare.recorded(), ["wine"], [0], 120.0, MACHINE)) == 7
    assert len(compare.pending(compare.recorded(), ["wine"], [0], 60.0, "AMD EPYC, 2 cores")) == 7


def test_a_report_shows_one_budget_on_one_machine() -> None:
    elsewhere = [cell("tune", [[9.0, 0.5]], machine="AMD EPYC, 2 cores")]
    older = [cell("tune", [[9.0, 0.6]], budget_s=120.0)]
    cells = [*CELLS, *older, *elsewhere]
    # By default the budget and the machine with the most cells: a quick run at another
    # budget or a side run elsewhere does not take the report over.
    assert compare.reported(cells, None, None) == CELLS
    assert compare.reported(cells, 60.0, "AMD EPYC, 2 cores") == elsewhere
    assert compare.reported(cells, None, "AMD EPYC, 2 cores") == elsewhere
    assert compare.reported(cells, 120.0, None) == older
    assert compare.reported(cells, 30.0, None) == []
    assert compare.reported([], None, None) == []
    # Among as many cells, the ones recorded last.
    assert compare.reported([*CELLS[:1], *elsewhere], None, None) == elsewhere
    assert compare.reported([*CELLS[:1], *older], None, None) == older


def test_a_run_can_name_its_contenders() -> None:
    left = compare.pending([], ["wine"], [0, 1], 60.0, MACHINE, ["kt-random", "tune"])
    assert left == [
        ("wine", 0, "tune"), ("wine", 0, "kt-random"), ("wine", 1, "tune"), ("wine", 1, "kt-random")
    ]  # fmt: skip


def test_machine_is_chosen_by_part_of_its_name() -> None:
    cells = [*CELLS, cell("tune", [[9.0, 0.5]], machine="AMD EPYC, 2 cores")]
    assert compare._machine_named(cells, "epyc") == "AMD EPYC, 2 cores"
    with pytest.raises(SystemExit, match="names 2 of the machines"):
        compare._machine_named(cells, "2 cores")


def test_a_side_report_links_its_pngs_and_the_main_report(tmp_path: Path) -> None:
    report = tmp_path / "side" / "RESULTS.md"
    report.parent.mkdir()
    text = summary.write_report(CELLS, report.with_suffix(""), report, main=False)
    assert "![wine](RESULTS/wine.png)" in text
    assert (report.parent / "RESULTS" / "wine.png").is_file()
    assert "Why the holdout target is missed" not in text
    link = text.rsplit("(", 1)[1].rstrip(").")
    assert (report.parent / link).resolve() == summary.MAIN_REPORT


def test_the_report_names_the_machines_its_cells_recorded() -> None:
    assert summary.machines(CELLS) == f"{MACHINE}; Python 3.11.7; keras 3.15.1"
    unrecorded = {k: v for k, v in CELLS[0].items() if k not in ("machine", "versions")}
    assert summary.machines([*CELLS, unrecorded]).endswith(" | not recorded for 1 of 6 cells")
    assert summary.machines([]) == "no cells"


def test_this_machine_is_named_by_processor_and_cores() -> None:
    assert summary.cpu().endswith(" cores")
    assert summary.versions().startswith("Python 3.")
    assert compare._commit() is not None


def test_report_names_a_failure_and_a_contender_that_never_reached_the_target(
    tmp_path: Path,
) -> None:
    text = summary.write_report(CELLS, tmp_path / "compare", tmp_path / "RESULTS.md")
    assert "kt-bayesian (1 failed: exit 1: boom)" in text
    assert "| optuna-loop | 1 | 0.9300 ± 0.0000 | never |" in text
    assert "tune 1.0000 against the best KerasTuner's (kt-random) 0.9700, a win" in text
    assert (tmp_path / "compare" / "wine.png").is_file()


def test_the_opt_in_contender_is_scored_apart_from_the_defaults(tmp_path: Path) -> None:
    without = summary.write_report(CELLS, tmp_path / "compare", tmp_path / "RESULTS.md")
    assert "tune-best (`--keep-epoch best`, an option;" not in without
    # tune-best reaches 0.97 at 10 s against KerasTuner's 40 s: a quarter of the time.
    cells = [*CELLS, cell("tune-best", [[10.0, 0.97]])]

    text = summary.write_report(cells, tmp_path / "compare", tmp_path / "RESULTS.md")

    scored = text.split("tune-best (`--keep-epoch best`, an option;")[1]
    assert scored.split("\n\n")[1].splitlines() == [
        "- Holdout score at least the best KerasTuner's: 1 of 1 datasets (target 5 of 6): wine.",
        "- Time to target at most a third of the best KerasTuner's: 1 of 1 (target 4 of 6): wine.",
    ]
    assert "| tune-best | 1 | 0.9700 ± 0.0000 | 10.0 ± 0.0 |" in text


def test_scorecard_counts_the_targets_and_names_what_no_contender_could_reach() -> None:
    assert summary.scorecard(CELLS, ["wine"]) == [
        "- Holdout score at least the best KerasTuner's: 1 of 1 datasets (target 5 of 6): wine.",
        "- Time to target at most a third of the best KerasTuner's: 0 of 1 (target 4 of 6): none.",
    ]
    # KerasTuner's first model is its final one, at 9 s: a third of it, 3 s, comes before
    # the soonest first model of all (6 s), so no contender could have met that target.
    quick = [
        cell("tune", [[6.0, 0.9], [20.0, 0.97]]),
        cell("kt-random", [[9.0, 0.97]]),
    ]
    comparison = summary.versus(quick, "wine", "tune")
    assert comparison is not None and comparison.out_of_reach
    assert comparison.ratio == pytest.approx(20.0 / 9.0)
    assert summary.scorecard(quick, ["wine"])[2].endswith(
        "wine (3.0 s against a first model at 6.0 s)."
    )


def test_a_seed_whose_every_cell_failed_leaves_the_first_model_time_to_the_others() -> None:
    cells = [*CELLS, cell("tune", [], seed=1, status="failed", reason="exit 1: boom")]
    comparison = summary.versus(cells, "wine", "tune")
    assert comparison is not None and comparison.first_model_s == 12.0


def test_a_seed_that_never_reached_the_target_keeps_the_time_target_unmet() -> None:
    two_seeds = [
        cell("tune", [[5.0, 0.97]]),
        cell("kt-random", [[60.0, 0.97]]),
        cell("tune", [[5.0, 0.90]], seed=1),
        cell("kt-random", [[60.0, 0.97]], seed=1),
    ]
    comparison = summary.versus(two_seeds, "wine", "tune")
    assert comparison is not None and (comparison.reached, comparison.seeds) == (1, 2)
    assert "0 of 1" in summary.scorecard(two_seeds, ["wine"])[1]


@pytest.mark.parametrize("missing", ["keras_tuner", "optuna_integration"])
def test_without_the_bench_extra_one_line_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    real = compare.importlib.util.find_spec
    monkeypatch.setattr(
        compare.importlib.util,
        "find_spec",
        lambda name: None if name == missing else real(name),
    )
    monkeypatch.setattr(sys, "argv", ["compare.py", "--datasets", "wine"])
    assert compare.main() == 1
    assert capsys.readouterr().err.strip() == compare.INSTALL
