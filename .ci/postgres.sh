# Sourced by .ci/run (and usable by hand): install Debian's PostgreSQL if needed, start a
# dedicated cluster on a local port, and create the test role and database.
PG_PORT=${PG_PORT:-55432}
PG_CLUSTER=tunetest
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
PG_VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $2}' | grep -qx "$PG_CLUSTER"; then
  pg_createcluster -p "$PG_PORT" "$PG_VERSION" "$PG_CLUSTER" >/dev/null
fi
pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start 2>/dev/null || true
pg_psql() { su postgres -c "psql -p $PG_PORT -qtAc \"$1\""; }
for _ in $(seq 1 30); do pg_psql "SELECT 1" >/dev/null 2>&1 && break; sleep 1; done
[ "$(pg_psql "SELECT 1 FROM pg_roles WHERE rolname='tune'")" = 1 ] ||
  pg_psql "CREATE ROLE tune LOGIN PASSWORD 'tune' CREATEDB"
[ "$(pg_psql "SELECT 1 FROM pg_database WHERE datname='tune_test'")" = 1 ] ||
  pg_psql "CREATE DATABASE tune_test OWNER tune"
export TUNE_TEST_POSTGRES_URL="postgresql+psycopg2://tune:tune@127.0.0.1:${PG_PORT}/tune_test"
echo "PostgreSQL $PG_VERSION cluster $PG_CLUSTER on 127.0.0.1:$PG_PORT"
