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

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from _paired import Pair, paired_cell, paired_report
from refit import DATASETS, study_main

if TYPE_CHECKING:
    from refit import Searched

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "tpe_group.jsonl"
REPORT = HERE / "tpe_group.md"
BUDGET = 40.0  # seconds a study, as bench/best_epoch.py
GROUPED = "tpe-group"  # the candidate's name in tune's sampler registry, for this script only
SAMPLERS = ("tpe", GROUPED)  # each is also the key of its arm's record


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
    arms = {sampler: {"sampler": sampler} for sampler in SAMPLERS}
    return paired_cell(dataset, seed, budget, folder, arms, _chosen)


def _chosen(found: Searched) -> dict[str, Any]:
    return {"validation": found.best.value, "n_layers": found.best.params["n_layers"]}


def report(cells: list[dict[str, Any]]) -> str:
    """Per dataset: each sampler's mean shipped test score and best validation value, and
    the paired tally of the shipped scores."""
    return paired_report(
        cells,
        arms=SAMPLERS,
        labels=("tpe", "group"),
        extra=("best validation, tpe | best validation, group", _columns),
        claim="the group decomposition at least tune's TPE's",
    )


def _columns(pair: Pair) -> str:
    return f"{pair.mean('tpe', 'validation'):.4f} | {pair.mean(GROUPED, 'validation'):.4f}"


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
