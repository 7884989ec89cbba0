"""Would averaging a few models ship a better model than the one tune shipped?

tune used to ship one model: for classification a refit of the best configuration on every
row outside the test split (kept only if it fit those rows at least as well as the best
trial's own model), for regression the best trial's own model. With small data, one
validation split ranks many trials noisily and a model is one draw of its initialisation and
batch order, so what ships is partly luck (bench/RESULTS.md, bench/refit_draws.md).
Averaging the outputs of a few models cancels some of that luck without choosing among them.
For each dataset and seed this runs one `tune run --timeout BUDGET --no-refit` and scores on
the study's test split, which none of the models saw:

- before: what tune shipped before refits were averaged, as above;
- own: the best trial's own model;
- refit: one draw of the best configuration trained on every row outside the test split,
  with the trial's seed (the refit tune trained before);
- refits K: the mean output of K such draws, the refit and K - 1 more with other seeds
  (objectives/_draws.py, as tune trains them now);
- now: what tune ships now, the refits 3 kept by the same check as before (else own);
- pair: the mean output of own and refit, two draws of the best configuration;
- top K: the mean output of the K best trials' logged models (by validation score; tune logs
  the model of every trial that was the best so far, so these are the last K of them);
- top 3 + refit: the refit's output averaged with the top 3's.

Classification averages the predicted probabilities, regression the predictions. The models
come from one study, so every comparison is paired and machine load cannot favour any.

    python bench/ensemble.py                  # 9 datasets x 3 seeds at 40 s
    python bench/ensemble.py --report         # bench/ensemble.md from what is recorded
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

from _common import tally
from refit import DATASETS, searched, study_main

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import optuna


HERE = Path(__file__).resolve().parent
RESULTS = HERE / "ensemble.jsonl"
REPORT = HERE / "ensemble.md"
BUDGET = 40.0
TOPS = (2, 3, 5)
# The variants a report compares with what tune shipped before, in column order.
REFITS = (3, 5)
VARIANTS = (
    "now", "own", "refit", *(f"refits{k}" for k in REFITS), "pair", *(f"top{k}" for k in TOPS),
    "top3+refit",
)  # fmt: skip


def ranked_models(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials whose model tune logged, best validation score first."""
    from optuna.study import StudyDirection

    from search.stores._names import MODEL_URI_ATTR

    logged = [t for t in study.trials if t.value is not None and MODEL_URI_ATTR in t.user_attrs]
    maximize = study.direction == StudyDirection.MAXIMIZE
    return sorted(logged, key=lambda t: float(t.value or 0), reverse=maximize)


def mean_output(outputs: list[np.ndarray]) -> np.ndarray:
    """The average of several models' outputs (probabilities or predictions)."""
    import numpy as np

    return np.mean(np.stack(outputs), axis=0)


def run_cell(dataset: str, seed: int, budget: float, folder: Path) -> dict[str, Any]:
    """One study with the defaults but no refit; the test score of each variant."""
    import numpy as np

    from objectives import train_draws
    from objectives._folds import refit_fold
    from objectives._train import predict
    from search.run._model_log import load_logged
    from search.run._refit import rest_fit
    from search.stores._lookup import trained_params
    from search.stores._names import MODEL_URI_ATTR

    with searched(dataset, seed, budget, folder, refit=False) as found:
        splits, task, metric = found.prepared.splits, found.prepared.problem.task, found.metric
        ranked = ranked_models(found.study)
        logged = [load_logged(t.user_attrs[MODEL_URI_ATTR]) for t in ranked[: max(TOPS)]]
        tops = [predict(model, splits.x_test) for model in logged]
        fold = refit_fold(found.prepared)
        if not np.array_equal(fold.splits.y_test, splits.y_test):
            raise AssertionError("the refit fold's test split is not the study's")
        averaged = train_draws(
            trained_params(found.best), fold.problem, fold.splits, found.builder,
            seed + found.best.number, max(REFITS),
        )  # fmt: skip
        draws = [averaged.get_layer(f"draw_{k}") for k in range(max(REFITS))]
        test = [predict(model, fold.splits.x_test) for model in draws]
        rest = [predict(model, fold.splits.x_train) for model in draws]
        y = splits.y_test.astype(np.float64)

        def fits(outputs: np.ndarray) -> float:
            return metric.score(fold.splits.y_train.astype(np.float64), outputs, task)

        held = keeps(metric.direction, rest_fit(logged[0], splits, metric, task))
        kept = {
            "refit_kept": held(fits(rest[0])),
            "refits3_kept": held(fits(mean_output(rest[:3]))),
        }
        outputs = {
            "own": tops[0], "refit": test[0], "pair": mean_output([tops[0], test[0]]),
            **{f"refits{k}": mean_output(test[:k]) for k in REFITS},
            **{f"top{k}": mean_output(tops[:k]) for k in TOPS},
            "top3+refit": mean_output([test[0], *tops[:3]]),
            "before": test[0] if task != "regression" and kept["refit_kept"] else tops[0],
            "now": mean_output(test[:3]) if kept["refits3_kept"] else tops[0],
        }  # fmt: skip
        scores = {name: metric.score(y, out, task) for name, out in outputs.items()}
        return {
            "dataset": dataset, "seed": seed, "budget_s": budget, "metric": metric.name,
            "higher_is_better": metric.direction == "maximize",
            "test_rows": len(splits.x_test), "trials": len(found.study.trials),
            "logged_models": len(ranked), **scores, **kept,
        }  # fmt: skip


def keeps(direction: str, own: float) -> Callable[[float], bool]:
    """tune's check on a refit: it must fit its rows at least as well as the trial's model."""
    from search.run._refit import holds

    return lambda fit: holds(fit, own, direction)


def report(cells: list[dict[str, Any]]) -> str:
    """Per dataset, mean test scores and, per variant, ahead / level / behind what tune
    shipped before over seeds (classification: level within one test row)."""
    lines = [
        "| dataset | metric | seeds | logged models | refits 3 kept | before | "
        + " | ".join(VARIANTS)
        + " |",
        "| --- | --- | --- | --- | --- | --- | " + " | ".join("---" for _ in VARIANTS) + " |",
    ]
    held = dict.fromkeys(VARIANTS, 0)
    shown = [d for d in DATASETS if any(c["dataset"] == d for c in cells)]
    for dataset in shown:
        rows = [c for c in cells if c["dataset"] == dataset]
        sign = 1.0 if rows[0]["higher_is_better"] else -1.0
        tie = 1 / rows[0]["test_rows"] if rows[0]["higher_is_better"] else 0.0
        before = statistics.fmean(c["before"] for c in rows)
        columns = []
        for name in VARIANTS:
            mean = statistics.fmean(c[name] for c in rows)
            held[name] += sign * (mean - before) >= -tie
            gains = [sign * (c[name] - c["before"]) for c in rows]
            columns.append(f"{mean:.4f} ({tally(gains, tie / 2)})")
        kept = sum(bool(c["refits3_kept"]) for c in rows)
        lines.append(
            f"| {dataset} | {rows[0]['metric']} | {len(rows)} | "
            f"{statistics.fmean(c['logged_models'] for c in rows):.1f} | {kept} of {len(rows)} | "
            f"{before:.4f} | " + " | ".join(columns) + " |"
        )
    summary = ", ".join(f"{name} {held[name]}" for name in VARIANTS)
    lines += [
        "",
        "In brackets: seeds ahead / level / behind what tune shipped before. Mean test score at "
        f"least before's (within one test row), of {len(shown)} datasets: {summary}. "
        "Refits 3 kept: the studies whose refits 3 passed tune's check (else now ships own).",
    ]
    return "\n".join(lines)


def main() -> None:
    study_main(__doc__, DATASETS, RESULTS, REPORT, run_cell, _document, BUDGET)


def _document(cells: list[dict[str, Any]], budget: float) -> str:
    return (
        "# Averaging models against shipping one\n\n"
        f"Written by `python bench/ensemble.py` (budget {budget:.0f} s per `tune run "
        "--no-refit`, otherwise the defaults, 2-core machine). Every model is scored on the study's 20 % test split, "
        "which none saw; means over seeds. See the module's docstring for what each column "
        "is.\n\n" + report(cells)
    )


if __name__ == "__main__":
    main()
