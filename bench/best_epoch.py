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

from pathlib import Path
from typing import TYPE_CHECKING, Any

from _paired import Pair, paired_cell, paired_report
from refit import DATASETS, study_main

if TYPE_CHECKING:
    from refit import Searched

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "best_epoch.jsonl"
REPORT = HERE / "best_epoch.md"
KEEPS = ("last", "best")
BUDGET = 40.0  # seconds a study: long enough for a few dozen trials on hard_classes


def run_cell(dataset: str, seed: int, budget: float, folder: Path) -> dict[str, Any]:
    """Two studies of one dataset and seed, one per --keep-epoch, with their test scores."""
    arms = {keep: {"keep_epoch": keep, "refit": None} for keep in KEEPS}
    return paired_cell(dataset, seed, budget, folder, arms, _kept)


def _kept(found: Searched) -> dict[str, Any]:
    from search.run._model_log import load_logged
    from search.stores._names import KEPT_EPOCHS_ATTR, MODEL_URI_ATTR

    best = found.best
    model = load_logged(best.user_attrs[MODEL_URI_ATTR])
    return {
        "own": found.test_score(model, found.prepared.splits),
        "epochs": best.params["epochs"],
        "kept_epochs": best.user_attrs.get(KEPT_EPOCHS_ATTR),
    }


def report(cells: list[dict[str, Any]]) -> str:
    """Per dataset: mean test score of each policy's shipped model, and the paired tally."""
    return paired_report(
        cells,
        arms=KEEPS,
        labels=KEEPS,
        extra=("own model, last | own model, best | kept / sampled epochs (best)", _columns),
        claim="--keep-epoch best at least --keep-epoch last's",
    )


def _columns(pair: Pair) -> str:
    return (
        f"{pair.mean('last', 'own'):.4f} | {pair.mean('best', 'own'):.4f} | "
        f"{pair.mean('best', 'kept_epochs'):.1f} / {pair.mean('best', 'epochs'):.1f}"
    )


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
