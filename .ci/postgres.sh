#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server on 127.0.0.1 for the store tests and prints its URL.
#
# Installs PostgreSQL from Debian packages when no server binaries are found, creates a
# cluster in a scratch folder owned by the postgres user (or by the caller when not root),
# starts it on loopback only with trust authentication (a test server holding no data), and
# creates the role and database the tests use. Safe to run again: it reuses what exists.
#
#   FLOWSPEC_PG_PORT   port to listen on (default 54329)
#   FLOWSPEC_PG_DATA   cluster folder (default /tmp/flowspec-pg)
#
# Usage:  export FLOWSPEC_TEST_PG_URL="$(.ci/postgres.sh | tail -n 1)"
set -euo pipefail

port="${FLOWSPEC_PG_PORT:-54329}"
data="${FLOWSPEC_PG_DATA:-/tmp/flowspec-pg}"
role="flowspec"
database="flowspec_test"

log() { echo "postgres.sh: $*" >&2; }

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

bin="$(find_bin)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "PostgreSQL is not installed and installing it needs root"
    exit 2
  fi
  log "installing PostgreSQL from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  # postgresql-common would start a default cluster; ours lives apart, so skip that.
  mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
  apt-get install -y -qq --no-install-recommends postgresql >&2
  bin="$(find_bin)"
fi

# Run server commands as postgres when we are root (the server refuses to run as root).
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  as_owner() { runuser -u postgres -- "$@"; }
  owner="postgres"
else
  as_owner() { "$@"; }
  owner="$(id -un)"
fi

if [ ! -f "$data/PG_VERSION" ]; then
  log "creating a cluster in $data"
  mkdir -p "$data"
  chown "$owner" "$data"
  chmod 700 "$data"
  as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale >&2
fi

if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  log "starting the server on 127.0.0.1:$port"
  as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 start \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c fsync=off" >&2
fi

psql() { as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
# CREATEDB: the store tests give each test module a database of its own.
if [ -z "$(psql -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" ]; then
  psql -d postgres -c "CREATE ROLE $role LOGIN CREATEDB" >&2
fi
if [ -z "$(psql -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
  psql -d postgres -c "CREATE DATABASE $database OWNER $role" >&2
fi

echo "postgresql+psycopg://$role@127.0.0.1:$port/$database"
