#!/usr/bin/env bash
# Start the throwaway services the service tests can use, and print the variables to export.
#
# Called by .ci/run as root:   eval "$(.ci/services.sh)"
# It installs PostgreSQL 15 (+ PostGIS) and gdal-bin (ogrinfo, for the OGC API test), creates
# a throwaway cluster on 127.0.0.1:55432 owned by the postgres user, a role and a database,
# and prints `export GAPMAP_TEST_DATABASE_URL=...` on stdout. Everything else goes to stderr.
# When not root, or when apt or the cluster fails, it prints nothing and exits 0: the tests
# then run on SQLite only and skip the PostgreSQL variants with a message.
set -u

PGPORT="${GAPMAP_CI_PGPORT:-55432}"
PGDATA="${GAPMAP_CI_PGDATA:-/tmp/gapmap-ci-pg}"
DB_USER="gapmap"
DB_NAME="gapmap_test"
DB_PASS="gapmap-ci-$(date +%s)-$$"

log() { echo "services.sh: $*" >&2; }
give_up() { log "$*; PostgreSQL tests will be skipped"; exit 0; }

[ "$(id -u)" -eq 0 ] || give_up "not root"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2 2>&1 || give_up "apt-get update failed"
apt-get install -y -qq --no-install-recommends postgresql postgresql-15-postgis-3 gdal-bin >&2 2>&1 \
  || apt-get install -y -qq --no-install-recommends postgresql gdal-bin >&2 2>&1 \
  || give_up "apt-get install failed"

BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$BIN/initdb" ] || give_up "initdb not found"
id postgres >/dev/null 2>&1 || give_up "no postgres user"

as_pg() { su postgres -s /bin/sh -c "$*"; }

# Already started by an earlier call and still answering: reuse it (several test runs may
# share it; each test session works in its own schema).
URL_FILE="$PGDATA.url"
if [ -f "$URL_FILE" ] && as_pg "'$BIN/pg_ctl' -D '$PGDATA' status" >/dev/null 2>&1 \
   && "$BIN/psql" "$(sed 's/+psycopg//' "$URL_FILE")" -qAtc 'select 1' >/dev/null 2>&1; then
  log "reusing the running cluster in $PGDATA"
  echo "export GAPMAP_TEST_DATABASE_URL=$(cat "$URL_FILE")"
  exit 0
fi

# The default port taken by something else (another cluster, a benchmark's throwaway
# server): take a free one instead of failing.
if [ -z "${GAPMAP_CI_PGPORT:-}" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PGPORT") 2>/dev/null; then
  PGPORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  log "port 55432 is in use; the cluster listens on $PGPORT"
fi

# A cluster left over from an earlier call but not usable: stop it and start afresh.
if [ -f "$PGDATA/postmaster.pid" ]; then
  as_pg "'$BIN/pg_ctl' -D '$PGDATA' -m immediate stop" >&2 2>&1 || true
fi
rm -rf "$PGDATA" "$URL_FILE"
mkdir -p "$PGDATA" && chown postgres: "$PGDATA" && chmod 700 "$PGDATA" || give_up "cannot create $PGDATA"

as_pg "'$BIN/initdb' -D '$PGDATA' --auth-local=peer --auth-host=scram-sha-256 --username=postgres -E UTF8" >&2 2>&1 \
  || give_up "initdb failed"
# local socket access for the postgres superuser (setup only); TCP needs a password
echo "local all postgres peer" > "$PGDATA/pg_hba.conf"
echo "host all all 127.0.0.1/32 scram-sha-256" >> "$PGDATA/pg_hba.conf"
chown postgres: "$PGDATA/pg_hba.conf"

as_pg "'$BIN/pg_ctl' -D '$PGDATA' -l '$PGDATA/server.log' -w -t 60 \
  -o \"-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories=/tmp -c max_connections=200\" start" >&2 2>&1 \
  || give_up "pg_ctl start failed (see $PGDATA/server.log)"

psql_pg() { as_pg "'$BIN/psql' -h /tmp -p $PGPORT -U postgres -v ON_ERROR_STOP=1 -qAt $*"; }
psql_pg "-c \"CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASS'\"" >&2 2>&1 || give_up "cannot create role"
psql_pg "-c \"CREATE DATABASE $DB_NAME OWNER $DB_USER\"" >&2 2>&1 || give_up "cannot create database"
psql_pg "-d $DB_NAME -c 'CREATE EXTENSION IF NOT EXISTS postgis'" >&2 2>&1 || log "PostGIS not available (not needed by the catalog)"

URL="postgresql+psycopg://$DB_USER:$DB_PASS@127.0.0.1:$PGPORT/$DB_NAME"
(umask 077 && echo "$URL" > "$URL_FILE")
log "PostgreSQL on 127.0.0.1:$PGPORT, database $DB_NAME, data in $PGDATA"
echo "export GAPMAP_TEST_DATABASE_URL=$URL"
exit 0
