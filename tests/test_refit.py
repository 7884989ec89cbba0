"""bench/refit.py's command line, which the study benchmarks share: cells and pages by budget."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import refit  # noqa: E402


def test_a_budget_other_than_the_default_gets_a_page_of_its_own() -> None:
    page = Path("bench/tpe_group.md")

    assert refit.budget_page(page, 40.0, 40.0) == page
    assert refit.budget_page(page, 120.0, 40.0) == Path("bench/tpe_group-120s.md")


def test_a_cell_recorded_at_another_budget_does_not_stand_for_this_one(tmp_path: Path) -> None:
    results = tmp_path / "cells.jsonl"
    results.write_text(json.dumps({"dataset": "iris", "seed": 0, "budget_s": 40.0}) + "\n")
    ran: list[tuple[str, int, float]] = []

    def run(dataset: str, seed: int, budget: float, folder: Path) -> dict[str, Any]:
        ran.append((dataset, seed, budget))
        return {"dataset": dataset, "seed": seed, "budget_s": budget}

    args = argparse.Namespace(datasets=["iris"], seeds=[0, 1], budget=120.0)
    refit.run_studies(results, args, run)
    refit.run_studies(results, args, run)  # everything is recorded now: nothing runs again

    assert ran == [("iris", 0, 120.0), ("iris", 1, 120.0)]
    assert len(results.read_text().splitlines()) == 3
