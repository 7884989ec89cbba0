"""TPE as tune samples with it, against TPE with Optuna's group decomposition.

tune's space is conditional: a trial with no hidden layer samples no widths, activation or
dropout, and one with a layer samples one width. Optuna 5's TPE is multivariate by default,
but a multivariate TPE without `group=True` models jointly only the parameters every trial
has (the intersection of the search spaces) and samples the conditional ones one by one;
with `group=True` it splits the trials' spaces into groups and models each group jointly,
which Optuna's documentation gives as the remedy for dynamic spaces. For each dataset and
seed this runs two studies with the defaults (`--timeout BUDGET`), one per sampler, and
scores on the test split that no trial saw: the model each run ships (the refit on
classification, the best trial's own model on regression) and its best validation value.
Another `--budget` records its own cells and writes its own page (tpe_group-120s.md).

Datasets: the six of bench/compare.py, plus three that it does not use (a default must hold
beyond the six): iris, the noisy task of bench/small_data.py and Friedman's #1 regression.

    python bench/tpe_group.py                       # 9 datasets x seeds 0-2, 40 s a study
    python bench/tpe_group.py --datasets iris       # a part; rerun to continue
    python bench/tpe_group.py --report              # bench/tpe_group.md from what is recorded
"""

from __future__ import annotations

import statistics
import warnings
from pathlib import Path
from typing import Any

import optuna
from _common import tally
from refit import DATASETS, searched, study_main

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "tpe_group.jsonl"
REPORT = HERE / "tpe_group.md"
BUDGET = 40.0  # seconds a study, as bench/best_epoch.py
GROUPED = "tpe-group"  # the candidate's name in tune's sampler registry, for this script only
# Each record key, and the name of its sampler in tune's registry.
ARMS = {"tpe": "tpe", GROUPED: GROUPED}


def grouped_tpe(seed: int) -> optuna.samplers.BaseSampler:
    """tune's TPE with the group decomposition on: the candidate measured here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True)


def register_candidate() -> None:
    """Offer the candidate through tune's own registry, so the studies differ in it alone.

    A study with one worker samples in this process, so the entry reaches every trial.
    """
    from search.run._samplers import SAMPLERS as REGISTRY

    REGISTRY.setdefault(GROUPED, grouped_tpe)


def run_cell(dataset: str, seed: int, budget: float, folder: Path) -> dict[str, Any]:
    """Two studies of one dataset and seed, one per sampler, with their test scores."""
    register_candidate()
    cell: dict[str, Any] = {"dataset": dataset, "seed": seed, "budget_s": budget}
    for key, sampler in ARMS.items():
        with searched(dataset, seed, budget, folder, sampler=sampler) as found:
            splits = found.prepared.splits
            cell[key] = {
                "trials": len(found.study.trials),
                "validation": found.best.value,
                "shipped": found.result.test_score,
                "n_layers": found.best.params["n_layers"],
            }
            cell.update(
                metric=found.metric.name, test_rows=len(splits.x_test),
                higher_is_better=found.metric.direction == "maximize",
            )  # fmt: skip
    return cell


def report(cells: list[dict[str, Any]]) -> str:
    """Per dataset: each sampler's mean shipped test score and best validation value, and
    the paired tally of the shipped scores."""
    lines = [
        "| dataset | metric | seeds | trials (tpe / group) | shipped, tpe | shipped, group "
        "| group ahead / level / behind | best validation, tpe | best validation, group |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    held = 0
    shown = [d for d in DATASETS if any(c["dataset"] == d for c in cells)]
    for dataset in shown:
        rows = [c for c in cells if c["dataset"] == dataset]
        sign = 1.0 if rows[0]["higher_is_better"] else -1.0
        tie = 1 / rows[0]["test_rows"] if rows[0]["higher_is_better"] else 0.0

        def mean(sampler: str, key: str, rows: list[dict[str, Any]] = rows) -> float:
            return statistics.fmean(c[sampler][key] for c in rows)

        gains = [sign * (c[GROUPED]["shipped"] - c["tpe"]["shipped"]) for c in rows]
        held += sign * (mean(GROUPED, "shipped") - mean("tpe", "shipped")) >= -tie
        lines.append(
            f"| {dataset} | {rows[0]['metric']} | {len(rows)} | "
            f"{mean('tpe', 'trials'):.0f} / {mean(GROUPED, 'trials'):.0f} | "
            f"{mean('tpe', 'shipped'):.4f} | {mean(GROUPED, 'shipped'):.4f} | "
            f"{tally(gains, tie / 2)} | {mean('tpe', 'validation'):.4f} | "
            f"{mean(GROUPED, 'validation'):.4f} |"
        )
    lines += [
        "",
        f"Mean shipped test score with the group decomposition at least tune's TPE's (within "
        f"one test row): {held} of {len(shown)} datasets.",
    ]
    return "\n".join(lines)


def main() -> None:
    study_main(__doc__, DATASETS, RESULTS, REPORT, run_cell, _document, BUDGET)


def _document(cells: list[dict[str, Any]], budget: float) -> str:
    seeds = sorted({c["seed"] for c in cells})
    return "\n".join(
        [
            "# TPE with and without Optuna's group decomposition",
            "",
            f"`python bench/tpe_group.py --budget {budget:g}`: two studies per dataset and "
            f"seed (seeds {', '.join(map(str, seeds))}), one per sampler, each "
            f"`tune run --timeout {budget:g}` with the defaults: `tpe` is tune's "
            "(`TPESampler(seed=...)`, multivariate by default in Optuna 5), `group` the same "
            "with `multivariate=True, group=True`. Test scores on the test split that no trial "
            "saw. Shipped: the refit on classification, the best trial's own model on "
            "regression (the defaults). Ahead / level / behind: seeds on which group's shipped "
            "model scored better, within half a test row, or worse than tpe's.",
            "",
            report(cells),
        ]
    )


if __name__ == "__main__":
    main()
