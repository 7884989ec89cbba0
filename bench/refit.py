"""One validation split: the best trial's own model against a refit on train+validation.

With one split (`--cv 1`), the best trial's model trained on 60 % of the rows; 20 %
validated it and 20 % are the test split. A refit trains the same configuration, with the
same seed and epochs, on the 80 % outside the test split, its preprocessing fitted on them
(as a cross-validated study's refit is). For each dataset and seed this runs one `tune run
--timeout BUDGET --refit` (regression too: this is what decided its default) and scores, on the test split that none of them saw: the
best trial's own model, a refit of it (one draw), and the model the run ships (the refit,
unless its guard in search/run/_refit.py declined it for the trial's own). refit.md was
recorded when the run's refit was that one draw; since bench/ensemble.md it is the mean of
three, so a rerun's shipped column measures that. The models come from the
same study, so the comparison is paired and machine load cannot favour either.

Datasets: the six of bench/compare.py, plus iris and the noisy synthetic task of
bench/small_data.py and Friedman's #1 regression (scikit-learn's make_friedman1), which
compare.py does not use (a default must hold beyond the six).
Cells are appended to a JSON-lines file as they finish and skipped when present.

    python bench/refit.py                      # everything (9 datasets x 3 seeds)
    python bench/refit.py --seeds 0            # a part; rerun to continue
    python bench/refit.py --report             # bench/refit.md from what is recorded
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from _common import private_stores, recorded_cells, run_missing, tally
from contenders.datasets import TASKS, _arrays
from small_data import noisy_csv

from search.run._spec import StudySpec

if TYPE_CHECKING:
    import keras

    from objectives import Metric, PreparedData, Splits
    from search.run._runner import RunResult

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "refit.jsonl"
REPORT = HERE / "refit.md"
BUILT_IN = ("breast_cancer", "digits", "wine", "diabetes", "iris")
DATASETS = (*TASKS, "iris", "noisy", "friedman")
SEEDS = (0, 1, 2)


def data_source(dataset: str, folder: Path) -> str:
    """What `--data` gets: a built-in name, or a CSV written for a synthetic task."""
    if dataset in BUILT_IN:
        return dataset
    if dataset == "noisy":
        return noisy_csv(folder)
    import pandas as pd

    x, y = _friedman() if dataset == "friedman" else _arrays(dataset)
    path = folder / f"{dataset}.csv"
    pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])]).assign(y=y).to_csv(
        path, index=False
    )
    return str(path)


def _friedman() -> tuple[Any, Any]:
    """Friedman's #1 regression: 500 rows, 10 features of which 5 matter, noise sd 1."""
    from sklearn.datasets import make_friedman1

    return make_friedman1(n_samples=500, n_features=10, noise=1.0, random_state=11)


@dataclass(frozen=True)
class Searched:
    """A finished study with the defaults, and what scoring its models needs."""

    result: RunResult
    study: optuna.Study
    best: optuna.trial.FrozenTrial
    prepared: PreparedData
    metric: Metric
    builder: str
    tracking_uri: str

    def test_score(self, model: keras.Model, splits: Splits) -> float:
        """The model's score on the test split of `splits` (the study's, or a refit fold's)."""
        from objectives import score

        return score(model, splits.x_test, splits.y_test, self.metric, self.prepared.problem.task)


@contextmanager
def searched(
    dataset: str, seed: int, budget: float, folder: Path, **settings: Any
) -> Iterator[Searched]:
    """Run one `tune run --timeout budget --refit` study in private stores, which last as
    long as the context (the trials' logged models live there); `settings` are further
    StudySpec fields, such as keep_epoch (refit=None: the default refit)."""
    from objectives import get_metric
    from search.run._runner import run
    from search.ship._export import replay_data
    from spaces import get_space

    data = data_source(dataset, folder)
    target = "label" if dataset == "noisy" else ("y" if data.endswith(".csv") else None)
    with private_stores() as (storage, tracking):
        spec = StudySpec(
            data=data, target=target, study=f"{dataset}-{seed}", storage=storage,
            tracking_uri=tracking, seed=seed, trials=100_000, timeout=budget, report=False,
            **{"refit": True, **settings},
        )  # fmt: skip
        result = run(spec, show_progress=False, announce=lambda line: None)
        study = optuna.load_study(study_name=spec.study, storage=storage)
        prepared = replay_data(study)
        metric = get_metric(str(study.user_attrs["metric"]), prepared.problem.task)
        builder = get_space(str(study.user_attrs["space"])).builder
        yield Searched(result, study, study.best_trial, prepared, metric, builder, tracking)


def run_cell(dataset: str, seed: int, budget: float, folder: Path) -> dict[str, Any]:
    """One study with the defaults; the test scores of its best trial's own model, of a refit
    of it, and of the model the run ships (the refit unless its guard declined it)."""
    from search.run._model_log import load_logged
    from search.run._refit import train_refit
    from search.stores._names import MODEL_URI_ATTR

    with searched(dataset, seed, budget, folder) as found:
        splits = found.prepared.splits
        own = found.test_score(load_logged(found.best.user_attrs[MODEL_URI_ATTR]), splits)
        started = time.perf_counter()
        # One draw, as this page measures; tune's refit is now the mean of three (ensemble.py).
        model, fold = train_refit(found.prepared, found.builder, seed, found.best, draws=1)
        seconds = time.perf_counter() - started
        refit = found.test_score(model, fold.splits)
        result = found.result
    return {
        "dataset": dataset, "seed": seed, "budget_s": budget, "metric": found.metric.name,
        "trials": sum(result.states.values()), "best_trial": own, "refit": refit,
        "shipped": result.test_score, "kept": result.refit is not None, "refit_s": seconds,
        "test_rows": len(splits.x_test),
        "higher_is_better": found.metric.direction == "maximize",
    }  # fmt: skip


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
            f"{tally(diffs, tie / 2)} | {shipped_text} | "
            f"{statistics.median(c['refit_s'] for c in rows):.1f} |"
        )
    lines += [
        "",
        f"Mean test score at least the best trial's model's (within one test row): the refit "
        f"on {held['refit']} of {len(shown)} datasets, the shipped model on {held['shipped']}.",
    ]
    return "\n".join(lines)


CellRunner = Callable[[str, int, float, Path], dict[str, Any]]


def study_arguments(
    doc: str | None, datasets: tuple[str, ...], budget: float = 30.0
) -> argparse.Namespace:
    """The command line the study benchmarks share; `datasets` and `budget` are the defaults."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--budget", type=float, default=budget, help="seconds per tune run")
    parser.add_argument("--seeds", type=int, nargs="*", default=list(SEEDS))
    parser.add_argument("--datasets", nargs="*", default=list(datasets), choices=DATASETS)
    parser.add_argument("--report", action="store_true", help="only write the report")
    return parser.parse_args()


def run_studies(results: Path, args: argparse.Namespace, run: CellRunner) -> None:
    """Run every (dataset, seed) cell of `args` that `results` does not hold yet at
    `args.budget`, seed by seed."""
    keys = [(dataset, seed, args.budget) for seed in args.seeds for dataset in args.datasets]
    run_missing(results, keys, ("dataset", "seed", "budget_s"), run)


def budget_page(page: Path, budget: float, default: float) -> Path:
    """The page a budget's cells are reported on: `page` for the script's default budget,
    `<page>-<budget>s.md` for another, so that a longer run does not replace the default's."""
    return page if budget == default else page.with_name(f"{page.stem}-{budget:g}s{page.suffix}")


def study_main(
    doc: str | None,
    datasets: tuple[str, ...],
    results: Path,
    page: Path,
    run: CellRunner,
    document: Callable[[list[dict[str, Any]], float], str],
    budget: float = 30.0,
) -> None:
    """A study benchmark's command line: run the cells `results` lacks (unless --report),
    then write the page of `--budget` (see `budget_page`), the `document` of every cell
    recorded at that budget."""
    args = study_arguments(doc, datasets, budget)
    if not args.report:
        run_studies(results, args, run)
    cells = [c for c in recorded_cells(results) if c["budget_s"] == args.budget]
    written = budget_page(page, args.budget, budget)
    written.write_text(document(cells, args.budget) + "\n")
    print(written.read_text())


def main() -> None:
    study_main(__doc__, DATASETS, RESULTS, REPORT, run_cell, _document)


def _document(cells: list[dict[str, Any]], budget: float) -> str:
    return (
        "# One split: the best trial's own model against a refit on train+validation\n\n"
        f"Written by `python bench/refit.py` (budget {budget:.0f} s per `tune run --refit`, "
        "2-core machine, seeds 0-2). Every model is scored on the study's 20 % test split, "
        "which none saw; mean over seeds. Shipped: the refit, unless its check (it must fit "
        "the rows it trained on at least as well as the trial's model does) kept the trial's "
        "model. Classification ties are differences under one test row. The refit is the "
        "default for classification only: on both regression datasets it scored worse on "
        "every seed. Not because of the extra rows: bench/refit_draws.md trains the same "
        "configurations with other seeds, and there the rows helped on regression too; the "
        "best trial's model is a draw chosen for scoring best, and a refit is a fresh one.\n\n"
        + report(cells)
    )


if __name__ == "__main__":
    main()
