#!/usr/bin/env bash
# Start a real PostgreSQL for the sync test suite and print the URL the tests read.
#
#   eval "$(sudo bash scripts/postgres-for-tests.sh)"   # exports SEDA_TEST_POSTGRES_URL
#
# Debian only, run as root (or with sudo): installs `postgresql` with apt if it is missing,
# starts the newest installed cluster, and creates a role and database `seda_test` whose
# password is `seda_test`.  Safe to run again.  Tests that need PostgreSQL skip when
# SEDA_TEST_POSTGRES_URL is unset, so run this (or set the variable) in CI.
set -euo pipefail

role="${SEDA_TEST_PG_ROLE:-seda_test}"
password="${SEDA_TEST_PG_PASSWORD:-seda_test}"
database="${SEDA_TEST_PG_DATABASE:-seda_test}"

if [ "$(id -u)" != 0 ]; then
  echo "scripts/postgres-for-tests.sh: run as root (sudo), it installs and starts PostgreSQL" >&2
  exit 1
fi

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "Installing PostgreSQL with apt..." >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

version="$(ls /usr/lib/postgresql | sort -n | tail -n 1)"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"' | grep -q .; then
  pg_createcluster "$version" main >&2
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $3}')"
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
  pg_ctlcluster "$version" main start >&2
fi

for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q -p $port" && break
  sleep 1
done

psql_as_postgres() { su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qtA $*"; }

if [ -z "$(psql_as_postgres "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$role'\"")" ]; then
  psql_as_postgres "-c \"CREATE ROLE $role LOGIN PASSWORD '$password' CREATEDB\"" >&2
fi
if [ -z "$(psql_as_postgres "-c \"SELECT 1 FROM pg_database WHERE datname = '$database'\"")" ]; then
  psql_as_postgres "-c \"CREATE DATABASE $database OWNER $role\"" >&2
fi

# A role that may make roles and databases (not a superuser), for the test of
# `seda central init --create-database`.
admin="${role}_admin"
if [ -z "$(psql_as_postgres "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$admin'\"")" ]; then
  psql_as_postgres "-c \"CREATE ROLE $admin LOGIN PASSWORD '$password' CREATEDB CREATEROLE\"" >&2
fi

url="postgresql://$role:$password@127.0.0.1:$port/$database"
echo "export SEDA_TEST_POSTGRES_URL=$url"
echo "export SEDA_TEST_POSTGRES_ADMIN_URL=postgresql://$admin:$password@127.0.0.1:$port/postgres"
