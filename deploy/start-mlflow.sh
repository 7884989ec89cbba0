#!/usr/bin/env bash
# On the tracking host: one MLflow server on PostgreSQL; it migrates its database on the
# first start and serves the artifacts (models, plots) itself, so workers need no shared disk.
#
#   MLFLOW_BACKEND_STORE_URI=postgresql://tune@db-host/mlflow deploy/start-mlflow.sh ARTIFACTS_DIR
#
# The backend URL comes from the environment (leave its password to ~/.pgpass or PGPASSFILE).
# Optional settings, also from the environment:
#   TUNE_MLFLOW_HOST (0.0.0.0), TUNE_MLFLOW_PORT (5000), TUNE_MLFLOW_WORKERS (4)
#   TUNE_ALLOWED_HOSTS  the host:port names clients use, such as mlflow-host:5000; MLflow
#                       refuses other Host headers (by default it accepts localhost and
#                       private addresses)
#   TUNE_MLFLOW_AUTH=1  MLflow's basic-auth app: set MLFLOW_AUTH_ADMIN_PASSWORD before the
#                       first start (MLflow ships none) and MLFLOW_FLASK_SERVER_SECRET_KEY
#                       (its CSRF key; the same on every server behind one name). Its users
#                       live in basic_auth.db in the working directory.
set -euo pipefail
: "${MLFLOW_BACKEND_STORE_URI:?set MLFLOW_BACKEND_STORE_URI to the MLflow database URL}"
artifacts=${1:?give the folder where the server keeps artifacts}
options=(--host "${TUNE_MLFLOW_HOST:-0.0.0.0}" --port "${TUNE_MLFLOW_PORT:-5000}"
         --workers "${TUNE_MLFLOW_WORKERS:-4}" --artifacts-destination "$artifacts")
if [ -n "${TUNE_ALLOWED_HOSTS:-}" ]; then
  options+=(--allowed-hosts "$TUNE_ALLOWED_HOSTS")
fi
if [ -n "${TUNE_MLFLOW_AUTH:-}" ]; then
  : "${MLFLOW_FLASK_SERVER_SECRET_KEY:?set MLFLOW_FLASK_SERVER_SECRET_KEY for basic auth}"
  options+=(--app-name basic-auth)
fi
exec mlflow server "${options[@]}"
