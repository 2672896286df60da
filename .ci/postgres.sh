#!/usr/bin/env bash
# A local PostgreSQL server for the tests on a real database engine (Debian's package): the warehouse's
# database (fengqiao_test) and, separately, the MLflow tracking server's (fengqiao_mlflow_test).
# Best effort: where it cannot be installed or started, the PostgreSQL tests skip and say why.
set -uo pipefail
[ "$(id -u)" = 0 ] || exit 0
command -v pg_lsclusters >/dev/null || apt-get install -y postgresql >/dev/null 2>&1 || exit 0
read -r version cluster _ < <(pg_lsclusters -h | head -n 1) || exit 0
pg_ctlcluster "$version" "$cluster" start 2>/dev/null || true
su postgres -c "psql -q -c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fengqiao')
  THEN CREATE ROLE fengqiao LOGIN PASSWORD 'fengqiao'; END IF; END \\\$\\\$;\"" >/dev/null 2>&1 || exit 0
for database in fengqiao_test fengqiao_mlflow_test; do
  su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname = '$database'\"" | grep -q 1 \
    || su postgres -c "psql -q -c 'CREATE DATABASE $database OWNER fengqiao'" >/dev/null 2>&1 || true
done
