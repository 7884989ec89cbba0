#!/usr/bin/env bash
# On each worker machine: `tune run` against the shared stores, with one worker process per
# core unless told otherwise. The first machine creates the study; the others join it by name.
#
#   export TUNE_STORAGE=postgresql://tune@db-host/optuna TUNE_TRACKING_URI=http://mlflow-host:5000
#   deploy/worker.sh --data /shared/houses.csv --target price --study houses --trials 200
#   deploy/worker.sh --study houses --trials 200            # on every other machine
#
# The stores come from the environment, so no password reaches the process list; with the
# server's basic auth, also set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD.
# TUNE_WORKERS overrides the number of worker processes (a later --workers wins too).
set -euo pipefail
: "${TUNE_STORAGE:?set TUNE_STORAGE to the Optuna database URL}"
: "${TUNE_TRACKING_URI:?set TUNE_TRACKING_URI to the MLflow server URL}"
exec tune run --workers "${TUNE_WORKERS:-$(nproc)}" "$@"
