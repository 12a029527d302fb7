#!/usr/bin/env bash
# Rebuilds corpus/ from the real thing: a throwaway PostgreSQL 15 cluster (Debian's
# postgresql package) with log_statement = 'all', the same tables Granary's client tests use,
# and every client of run.sh pointed at it. Run as root (the cluster runs as user postgres)
# after tests/clients/install.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin=/usr/lib/postgresql/15/bin
venv="${GRANARY_CLIENTS_VENV:-$HOME/.cache/granary-clients-venv}"
work="$(mktemp -d)"
chown postgres "$work"
port=55432
trap 'su postgres -c "$bin/pg_ctl -D $work/data stop -m immediate" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
su postgres -c "$bin/initdb -D $work/data -A trust -U postgres" >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
log_statement = 'all'
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
log_line_prefix = '%a|%p| '
CONF
su postgres -c "$bin/pg_ctl -D $work/data -l $work/pg.log -w start" >/dev/null
export PGHOST=127.0.0.1 PGPORT=$port PGUSER=postgres
psql -q -d postgres -c 'CREATE DATABASE "default"'
# The Postgres twin of the tables run.sh creates in Granary (same column types on the wire).
psql -q -d default -f "$here/tables.pg.sql"
cd "$here"
: > "$work/pg.log"
PGAPPNAME=granary-psql psql -d default -f "$here/psql_commands.sql" >/dev/null
"$venv/bin/python" "$here/python_clients.py" 127.0.0.1 $port postgres default
java -cp /usr/share/java/postgresql.jar "$here/Clients.java" 127.0.0.1 $port postgres default
python3 "$here/harvest.py" "$work/pg.log" "$here/corpus"
ls -l "$here/corpus"
