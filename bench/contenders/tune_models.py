"""Score the best-so-far models a `tune run` logged to MLflow on the holdout, after the run.

    python -m contenders.tune_models SPLIT_FOLDER SEED STUDY STORAGE TRACKING_URI OUT

Every trial that was the best so far when it ended carries its logged model's URI; tune's own
preprocessing is replayed (`prepare` with the run's seed fits it on the same rows again). The
model the run ends with is its refit of the best configuration on every row outside tune's
test split (logged on the study's run, with that refit's preprocessing); it is the curve's
last point, at the time the study's run ended.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import optuna
import pandas as pd
from optuna.trial import TrialState

from contenders.datasets import TARGET, read_split


def main(folder: str, seed: str, study_name: str, storage: str, tracking: str, out: str) -> None:
    from objectives import get_metric, prepare, score
    from search.ship._shipment import load_logged_model
    from search.stores._names import FOLD_SCORES_ATTR, MODEL_URI_ATTR, REFIT_ATTR

    split = read_split(Path(folder))
    study = optuna.load_study(study_name=study_name, storage=storage)
    trials = study.get_trials(deepcopy=False)
    done = sorted(
        (t for t in trials if t.state == TrialState.COMPLETE and t.datetime_complete),
        key=lambda t: t.datetime_complete,  # type: ignore[arg-type,return-value]
    )
    sign = 1.0 if study.direction == optuna.study.StudyDirection.MAXIMIZE else -1.0
    data = prepare(str(split.pool), target=TARGET, seed=int(seed))
    holdout = pd.read_csv(split.holdout)
    x = data.preprocessor.transform(holdout[data.preprocessor.columns])
    y = data.encoding.encode(holdout)
    metric = get_metric(split.metric, data.encoding.task)
    curve, best = [], float("-inf")
    for trial in done:
        if MODEL_URI_ATTR not in trial.user_attrs or sign * float(trial.value or 0) <= best:
            continue
        best = sign * float(trial.value or 0)
        model = load_logged_model(trial.user_attrs[MODEL_URI_ATTR], trial.number, tracking)
        stamp = trial.datetime_complete.timestamp()  # type: ignore[union-attr]
        curve.append([stamp, score(model, x, y, metric, data.encoding.task)])
    refit = study.user_attrs.get(REFIT_ATTR)
    if refit:
        from mlflow import MlflowClient

        from objectives._folds import refit_fold

        ended = MlflowClient(tracking_uri=tracking).get_run(refit["run_id"]).info.end_time
        model = load_logged_model(refit["model_uri"], refit["trial"], tracking)
        fold_x = refit_fold(data).preprocessor.transform(holdout[data.preprocessor.columns])
        curve.append([ended / 1000, score(model, fold_x, y, metric, data.encoding.task)])
    folds = max(len(t.user_attrs.get(FOLD_SCORES_ATTR) or [0]) for t in trials) if trials else 1
    trained = sum(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in trials)
    starts = [t.datetime_start.timestamp() for t in trials if t.datetime_start]
    facts = {"trials": len(done), "fits": trained * folds, "started": min(starts, default=None)}
    Path(out).write_text(json.dumps({"curve": curve, **facts}))


if __name__ == "__main__":
    main(*sys.argv[1:])
