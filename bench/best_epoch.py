"""Which epoch a trial keeps: its best on validation, or its last?

A trial trains for its sampled epochs. Keeping the last epoch's weights scores a model that
may have begun to fit its training rows' noise; keeping the epoch that validated best (what
Keras's EarlyStopping does with restore_best_weights, and how KerasTuner scores and saves a
trial) stops each model where it generalised best, at the price of one more choice made on
the validation rows. For each dataset and seed this runs two studies with the defaults
(`--timeout BUDGET`), one per `--keep-epoch`, and scores on the test split that no trial
saw: the best trial's own model, and the model the run ships (the refit on classification,
the best trial's model on regression, as the defaults do).

Datasets: the six of bench/compare.py, plus three that it does not use (a default must hold
beyond the six): iris, the noisy task of bench/small_data.py and Friedman's #1 regression.

    python bench/best_epoch.py                      # 9 datasets x seeds 0-2, 40 s a study
    python bench/best_epoch.py --datasets iris      # a part; rerun to continue
    python bench/best_epoch.py --report             # bench/best_epoch.md from what is recorded
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from _common import tally
from refit import DATASETS, searched, study_main

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "best_epoch.jsonl"
REPORT = HERE / "best_epoch.md"
KEEPS = ("last", "best")
BUDGET = 40.0  # seconds a study: long enough for a few dozen trials on hard_classes


def run_cell(dataset: str, seed: int, budget: float, folder: Path) -> dict[str, Any]:
    """Two studies of one dataset and seed, one per --keep-epoch, with their test scores."""
    from search.run._model_log import load_logged
    from search.stores._names import KEPT_EPOCHS_ATTR, MODEL_URI_ATTR

    cell: dict[str, Any] = {"dataset": dataset, "seed": seed, "budget_s": budget}
    for keep in KEEPS:
        with searched(dataset, seed, budget, folder, keep_epoch=keep, refit=None) as found:
            best, splits = found.best, found.prepared.splits
            cell[keep] = {
                "trials": len(found.study.trials),
                "own": found.test_score(load_logged(best.user_attrs[MODEL_URI_ATTR]), splits),
                "shipped": found.result.test_score,
                "epochs": best.params["epochs"],
                "kept_epochs": best.user_attrs.get(KEPT_EPOCHS_ATTR),
            }
            cell.update(
                metric=found.metric.name, test_rows=len(splits.x_test),
                higher_is_better=found.metric.direction == "maximize",
            )  # fmt: skip
    return cell


def report(cells: list[dict[str, Any]]) -> str:
    """Per dataset: mean test score of each policy's shipped model, and the paired tally."""
    lines = [
        "| dataset | metric | seeds | trials (last / best) | shipped, last | shipped, best "
        "| best ahead / level / behind | own model, last | own model, best | kept / sampled "
        "epochs (best) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    held = 0
    shown = [d for d in DATASETS if any(c["dataset"] == d for c in cells)]
    for dataset in shown:
        rows = [c for c in cells if c["dataset"] == dataset]
        sign = 1.0 if rows[0]["higher_is_better"] else -1.0
        tie = 1 / rows[0]["test_rows"] if rows[0]["higher_is_better"] else 0.0

        def mean(keep: str, key: str, rows: list[dict[str, Any]] = rows) -> float:
            return statistics.fmean(c[keep][key] for c in rows)

        gains = [sign * (c["best"]["shipped"] - c["last"]["shipped"]) for c in rows]
        held += sign * (mean("best", "shipped") - mean("last", "shipped")) >= -tie
        lines.append(
            f"| {dataset} | {rows[0]['metric']} | {len(rows)} | "
            f"{mean('last', 'trials'):.0f} / {mean('best', 'trials'):.0f} | "
            f"{mean('last', 'shipped'):.4f} | {mean('best', 'shipped'):.4f} | "
            f"{tally(gains, tie / 2)} | {mean('last', 'own'):.4f} | {mean('best', 'own'):.4f} | "
            f"{mean('best', 'kept_epochs'):.1f} / {mean('best', 'epochs'):.1f} |"
        )
    lines += [
        "",
        f"Mean shipped test score with --keep-epoch best at least --keep-epoch last's (within "
        f"one test row): {held} of {len(shown)} datasets.",
    ]
    return "\n".join(lines)


def main() -> None:
    study_main(__doc__, DATASETS, RESULTS, REPORT, run_cell, _document, BUDGET)


def _document(cells: list[dict[str, Any]], budget: float) -> str:
    seeds = sorted({c["seed"] for c in cells})
    return "\n".join(
        [
            "# Which epoch a trial keeps: its best on validation, or its last",
            "",
            f"`python bench/best_epoch.py --budget {budget:g}`: two studies per dataset and "
            f"seed (seeds {', '.join(map(str, seeds))}), one per `--keep-epoch`, each "
            f"`tune run --timeout {budget:g}` with the defaults; test scores on the test split "
            "that no trial saw. Shipped: the refit on classification, the best trial's own "
            "model on regression (the defaults). Ahead / level / behind: seeds on which best's "
            "shipped model scored better, within half a test row, or worse than last's.",
            "",
            report(cells),
        ]
    )


if __name__ == "__main__":
    main()
