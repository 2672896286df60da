#!/usr/bin/env bash
# A local PostgreSQL server for the warehouse tests on a real database engine (Debian's package).
# Best effort: where it cannot be installed or started, tests/test_postgres.py skips and says why.
set -uo pipefail
[ "$(id -u)" = 0 ] || exit 0
command -v pg_lsclusters >/dev/null || apt-get install -y postgresql >/dev/null 2>&1 || exit 0
read -r version cluster _ < <(pg_lsclusters -h | head -n 1) || exit 0
pg_ctlcluster "$version" "$cluster" start 2>/dev/null || true
su postgres -c "psql -q -c \"DO \\\$\\\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'fengqiao')
  THEN CREATE ROLE fengqiao LOGIN PASSWORD 'fengqiao'; END IF; END \\\$\\\$;\"" >/dev/null 2>&1 || exit 0
su postgres -c "psql -q -tc \"SELECT 1 FROM pg_database WHERE datname = 'fengqiao_test'\"" | grep -q 1 \
  || su postgres -c "psql -q -c 'CREATE DATABASE fengqiao_test OWNER fengqiao'" >/dev/null 2>&1 || true
