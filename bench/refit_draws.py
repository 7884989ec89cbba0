"""Why a refit scores worse on regression: the extra rows, or a lucky best trial?

The best trial's model is one draw (its seed's initialisation and batch order), chosen among
many for scoring best on validation; a refit is a fresh draw of the same configuration. So
a refit can lose to it without the extra rows doing any harm. For each study of
bench/refit.py's kind (the defaults, `--timeout BUDGET`), this trains the best trial's
configuration again, with the trial's epochs, and scores every model on the study's test
split, which none of them saw:

- replay: the trial's own seed on the trial's own rows (60 % of the data); it gives back the
  trial's score if training is deterministic, which makes the draws below comparable;
- redraws: DRAWS other seeds on the trial's own rows;
- refit draws: the same DRAWS seeds on the 80 % outside the test split, preprocessing fitted
  on them, as tune's refit trains.

Selection = the trial's model against the mean redraw (same rows, other draws): how lucky
the chosen draw was. Rows = the mean refit draw against the mean redraw (fresh draws both):
what the extra rows do on their own.

    python bench/refit_draws.py                 # diabetes, outliers, hard_classes x 3 seeds
    python bench/refit_draws.py --report        # bench/refit_draws.md from what is recorded
"""

from __future__ import annotations

import statistics
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from refit import searched, study_main

if TYPE_CHECKING:
    import keras
    from optuna.trial import FrozenTrial

    from objectives import Splits
    from spaces import Problem

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "refit_draws.jsonl"
REPORT = HERE / "refit_draws.md"
DEFAULT_DATASETS = ("diabetes", "outliers", "hard_classes")
DRAWS = 3
# Far from every trial's seed (the study's seed plus the trial number).
DRAW_SEED = 10_000


def draw(
    trial: FrozenTrial, builder: str, splits: Splits, problem: Problem, seed: int
) -> keras.Model:
    """A trial's configuration (of family `builder`) trained on `splits`, not validated,
    with `seed`; with the trial's own seed and rows it gives back the trial's model."""
    from objectives import build_model, fresh_session, train_model
    from search.stores._lookup import trained_params

    params = trained_params(trial)
    fresh_session(seed)
    model = build_model(params, problem, family=builder)
    # Validation would not change the weights; it would only cost time.
    train_model(model, replace(splits, x_val=splits.x_val[:0], y_val=splits.y_val[:0]), params)
    return model


def run_cell(dataset: str, seed: int, budget: float, folder: Path) -> dict[str, Any]:
    """One study; the test scores of its trial's model, a replay, the redraws, the refit draws."""
    from objectives._folds import refit_fold
    from search.run._model_log import load_logged
    from search.stores._names import MODEL_URI_ATTR

    with searched(dataset, seed, budget, folder) as found:
        own_splits, problem = found.prepared.splits, found.prepared.problem
        fold = refit_fold(found.prepared)
        seeds = [DRAW_SEED + seed * DRAWS + k for k in range(DRAWS)]
        cell = {
            "dataset": dataset, "seed": seed, "budget_s": budget, "metric": found.metric.name,
            "higher_is_better": found.metric.direction == "maximize",
            "test_rows": len(own_splits.x_test), "best_trial_number": found.best.number,
            "own": found.test_score(
                load_logged(found.best.user_attrs[MODEL_URI_ATTR]), own_splits
            ),
            "replay": found.test_score(
                draw(found.best, found.builder, own_splits, problem, seed + found.best.number), own_splits
            ),
            "redraws": [
                found.test_score(draw(found.best, found.builder, own_splits, problem, s), own_splits) for s in seeds
            ],
            "refit_draws": [
                found.test_score(draw(found.best, found.builder, fold.splits, fold.problem, s), fold.splits)
                for s in seeds
            ],
        }  # fmt: skip
    return cell


def report(cells: list[dict[str, Any]]) -> str:
    """Per dataset, means over seeds; the effects are signed so that positive is better."""
    lines = [
        "| dataset | metric | seeds | trial's model | replay | redraws | refit draws | "
        "selection | rows |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for dataset in dict.fromkeys(c["dataset"] for c in cells):
        rows = [c for c in cells if c["dataset"] == dataset]
        sign = 1.0 if rows[0]["higher_is_better"] else -1.0
        own = statistics.fmean(c["own"] for c in rows)
        redraw = statistics.fmean(statistics.fmean(c["redraws"]) for c in rows)
        refit = statistics.fmean(statistics.fmean(c["refit_draws"]) for c in rows)
        lines.append(
            f"| {dataset} | {rows[0]['metric']} | {len(rows)} | {own:.4f} | "
            f"{statistics.fmean(c['replay'] for c in rows):.4f} | {redraw:.4f} | "
            f"{refit:.4f} | {sign * (own - redraw):+.4f} | {sign * (refit - redraw):+.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    study_main(__doc__, DEFAULT_DATASETS, RESULTS, REPORT, run_cell, _document)


def _document(cells: list[dict[str, Any]], budget: float) -> str:
    return (
        "# A refit's draw against the trial's draw\n\n"
        f"Written by `python bench/refit_draws.py` (budget {budget:.0f} s per study, 2-core "
        f"machine). Test-split scores, means over seeds; redraws and refit draws are means of "
        f"{DRAWS} seeds each. Selection: the trial's model minus the mean redraw; rows: the "
        "mean refit draw minus the mean redraw; both signed so that positive is better (for "
        "RMSE, lower). See the module's docstring for what each column trains.\n\n" + report(cells)
    )


if __name__ == "__main__":
    main()
