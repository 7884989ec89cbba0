#!/usr/bin/env bash
# On the database host: the `tune` role and two databases, one for Optuna and one for MLflow
# (their tables must not share one). Safe to run again: what exists is kept.
#
#   sudo -u postgres --preserve-env=TUNE_DB_PASSWORD deploy/databases.sh [OPTUNA_DB [MLFLOW_DB]]
#
# psql connects with its usual settings (PGHOST, PGPORT, PGUSER, PGDATABASE, ~/.pgpass) as a
# user that may create databases, and roles if `tune` does not exist yet; TUNE_DB_PASSWORD is
# the new role's password, read from the environment to keep it off the process list.
set -euo pipefail
optuna_db=${1:-optuna}
mlflow_db=${2:-mlflow}
sql() { psql -v ON_ERROR_STOP=1 -qtAc "$1"; }
if [ "$(sql "SELECT 1 FROM pg_roles WHERE rolname = 'tune'")" != 1 ]; then
  sql "CREATE ROLE tune LOGIN PASSWORD '${TUNE_DB_PASSWORD:?set TUNE_DB_PASSWORD}'"
fi
for db in "$optuna_db" "$mlflow_db"; do
  if [ "$(sql "SELECT 1 FROM pg_database WHERE datname = '$db'")" != 1 ]; then
    sql "CREATE DATABASE \"$db\" OWNER tune"
  fi
done
echo "databases $optuna_db and $mlflow_db, owned by tune"
