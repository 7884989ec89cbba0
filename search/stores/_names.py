"""The names under which tune stores things in Optuna and MLflow, and where by default.

Kept free of imports, so the command line's help and the light commands can use them
without loading an engine.
"""

from __future__ import annotations

# The embedded default stores, under mlruns/ in the working directory.
DEFAULT_STORAGE = "sqlite:///mlruns/optuna.db"
DEFAULT_TRACKING_URI = "sqlite:///mlruns/mlflow.db"

# A study made before --keep-epoch existed kept its trials' last epochs: a rerun or a
# joining worker without the flag goes on as the study began.
LEGACY_KEEP_EPOCH = "last"

# Optuna trial user attributes.
PARAMS_ATTR = "params"  # the space's dict, with real widths (units_0=64), not exponents
RUN_ID_ATTR = "mlflow_run_id"  # the trial's MLflow child run
MODEL_URI_ATTR = "model_uri"  # set when the trial was the best so far: its MLflow model
FAIL_REASON_ATTR = "fail_reason"
BASELINE_ATTR = "baseline"  # True on the enqueued textbook trial
OWNER_ATTR = "owner"  # host:pid:start-time of the process running the trial
WORKER_ATTR = "worker"  # the worker process's token, under --workers N
FOLD_SCORES_ATTR = "fold_scores"  # a cross-validated trial's score on each fold so far
# How many epochs trained the weights a trial kept (its last epoch's number, or with
# --keep-epoch best its best one's; with folds their mean, rounded): what a refit or a
# replay of the trial trains for.
KEPT_EPOCHS_ATTR = "kept_epochs"

# Optuna study user attributes.
SCHEMA_ATTR = "schema"  # JSON: task, target, classes, inputs and fitted preprocessing
REFIT_ATTR = "refit"  # the latest run's refit of the best configuration: trial, rows, model, test

# MLflow experiment tag that opens the UI on its model-training view.
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
