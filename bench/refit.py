"""One validation split: the best trial's own model against a refit on train+validation.

With one split (`--cv 1`), the best trial's model trained on 60 % of the rows; 20 %
validated it and 20 % are the test split. A refit trains the same configuration, with the
same seed and epochs, on the 80 % outside the test split, its preprocessing fitted on them
(as a cross-validated study's refit is). For each dataset and seed this runs one `tune run
--timeout BUDGET --refit` (regression too: this is what decided its default) and scores, on the test split that none of them saw: the
best trial's own model, a refit of it, and the model the run ships (the refit, unless its
guard in search/run/_refit.py declined it for the trial's own). The models come from the
same study, so the comparison is paired and machine load cannot favour either.

Datasets: the six of bench/compare.py, plus iris and the noisy synthetic task of
bench/small_data.py, which compare.py does not use (a default must hold beyond the six).
Cells are appended to a JSON-lines file as they finish and skipped when present.

    python bench/refit.py                      # everything (8 datasets x 3 seeds)
    python bench/refit.py --seeds 0            # a part; rerun to continue
    python bench/refit.py --report             # bench/refit.md from what is recorded
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import append_cell, load_tune, private_stores, recorded_cells
from contenders.datasets import TASKS, _arrays
from small_data import noisy_csv

from search.run._spec import StudySpec

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "refit.jsonl"
REPORT = HERE / "refit.md"
BUILT_IN = ("breast_cancer", "digits", "wine", "diabetes", "iris")
DATASETS = (*TASKS, "iris", "noisy")
SEEDS = (0, 1, 2)


def data_source(dataset: str, folder: Path) -> str:
    """What `--data` gets: a built-in name, or a CSV written for a synthetic task."""
    if dataset in BUILT_IN:
        return dataset
    if dataset == "noisy":
        return noisy_csv(folder)
    import pandas as pd

    x, y = _arrays(dataset)
    path = folder / f"{dataset}.csv"
    pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])]).assign(y=y).to_csv(
        path, index=False
    )
    return str(path)


def run_cell(dataset: str, seed: int, budget: float, folder: Path) -> dict[str, Any]:
    """One study with the defaults; the test scores of its best trial's own model, of a refit
    of it, and of the model the run ships (the refit unless its guard declined it)."""
    import optuna

    from objectives import get_metric, score
    from search.run._model_log import load_logged
    from search.run._refit import train_refit
    from search.run._runner import run
    from search.ship._export import replay_data
    from search.stores._names import MODEL_URI_ATTR
    from spaces import get_space

    data = data_source(dataset, folder)
    target = "label" if dataset == "noisy" else ("y" if data.endswith(".csv") else None)
    with private_stores() as (storage, tracking):
        spec = StudySpec(
            data=data, target=target, study=f"{dataset}-{seed}", storage=storage,
            tracking_uri=tracking, seed=seed, trials=100_000, timeout=budget, report=False,
            refit=True,
        )  # fmt: skip
        result = run(spec, show_progress=False, announce=lambda line: None)
        study = optuna.load_study(study_name=spec.study, storage=storage)
        best = study.best_trial
        prepared = replay_data(study)
        metric = get_metric(str(study.user_attrs["metric"]), prepared.problem.task)
        task = prepared.problem.task
        splits = prepared.splits
        own = score(load_logged(best.user_attrs[MODEL_URI_ATTR]), splits.x_test, splits.y_test,
                    metric, task)  # fmt: skip
        builder = get_space(str(study.user_attrs["space"])).builder
        started = time.perf_counter()
        model, fold = train_refit(prepared, builder, seed, best)
        seconds = time.perf_counter() - started
        refit = score(model, fold.splits.x_test, fold.splits.y_test, metric, task)
    return {
        "dataset": dataset, "seed": seed, "budget_s": budget, "metric": metric.name,
        "trials": sum(result.states.values()), "best_trial": own, "refit": refit,
        "shipped": result.test_score, "kept": result.refit is not None, "refit_s": seconds,
        "test_rows": len(splits.x_test), "higher_is_better": metric.direction == "maximize",
    }  # fmt: skip


def recorded() -> list[dict[str, Any]]:
    """Every cell recorded so far."""
    return recorded_cells(RESULTS)


def report(cells: list[dict[str, Any]]) -> str:
    """Per dataset: mean test score of each model, and how often the refit won or was kept."""
    lines = [
        "| dataset | metric | seeds | trials | best trial's model | refit | refit better / tied"
        " / worse | shipped (refit kept) | refit (s) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    held = {"refit": 0, "shipped": 0}
    shown = [d for d in DATASETS if any(c["dataset"] == d for c in cells)]
    for dataset in shown:
        rows = [c for c in cells if c["dataset"] == dataset]
        sign = 1.0 if rows[0]["higher_is_better"] else -1.0
        tie = 1 / rows[0]["test_rows"] if rows[0]["higher_is_better"] else 0.0
        diffs = [sign * (c["refit"] - c["best_trial"]) for c in rows]
        counts = (
            sum(d > tie / 2 for d in diffs),
            sum(abs(d) <= tie / 2 for d in diffs),
            sum(d < -tie / 2 for d in diffs),
        )
        own = statistics.fmean(c["best_trial"] for c in rows)
        for key in held:
            if all(key in c for c in rows):
                held[key] += sign * (statistics.fmean(c[key] for c in rows) - own) >= -tie
        shipped = [c for c in rows if "shipped" in c]
        shipped_text = (
            f"{statistics.fmean(c['shipped'] for c in shipped):.4f} "
            f"({sum(c['kept'] for c in shipped)} of {len(shipped)})"
            if shipped
            else "-"
        )
        lines.append(
            f"| {dataset} | {rows[0]['metric']} | {len(rows)} | "
            f"{statistics.fmean(c['trials'] for c in rows):.0f} | {own:.4f} | "
            f"{statistics.fmean(c['refit'] for c in rows):.4f} | "
            f"{' / '.join(map(str, counts))} | {shipped_text} | "
            f"{statistics.median(c['refit_s'] for c in rows):.1f} |"
        )
    lines += [
        "",
        f"Mean test score at least the best trial's model's (within one test row): the refit "
        f"on {held['refit']} of {len(shown)} datasets, the shipped model on {held['shipped']}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per tune run")
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--report", action="store_true", help="only write the report")
    args = parser.parse_args()
    if not args.report:
        load_tune()
        done = {(c["dataset"], c["seed"]) for c in recorded()}
        with tempfile.TemporaryDirectory() as folder:
            for seed in args.seeds:
                for dataset in args.datasets:
                    if (dataset, seed) in done:
                        continue
                    cell = run_cell(dataset, seed, args.budget, Path(folder))
                    append_cell(RESULTS, cell)
    REPORT.write_text(_document(report(recorded()), args.budget) + "\n")
    print(REPORT.read_text())


def _document(table: str, budget: float) -> str:
    return (
        "# One split: the best trial's own model against a refit on train+validation\n\n"
        f"Written by `python bench/refit.py` (budget {budget:.0f} s per `tune run --refit`, "
        "2-core machine, seeds 0-2). Every model is scored on the study's 20 % test split, "
        "which none saw; mean over seeds. Shipped: the refit, unless its check (it must fit "
        "the rows it trained on at least as well as the trial's model does) kept the trial's "
        "model. Classification ties are differences under one test row. The refit is the "
        "default for classification only: on both regression datasets it scored worse on "
        "every seed.\n\n" + table
    )


if __name__ == "__main__":
    main()
