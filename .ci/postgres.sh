#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1:$PGPORT (default 55432) with a
# temporary data directory, as the postgres user, and prints the URL the
# tests read from LLMEDGE_TEST_POSTGRES. "stop DIR" stops it and removes DIR.
# Idempotent: a server already answering on the port is reused.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
port=${PGPORT:-55432}
if [ "${1:-}" = stop ]; then
  su postgres -c "$bin/pg_ctl -D '$2/data' -m fast stop" >/dev/null 2>&1 || true
  rm -rf "$2"
  exit 0
fi
if "$bin/pg_isready" -h 127.0.0.1 -p "$port" -q; then
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  exit 0
fi
dir=$(mktemp -d /tmp/llmedge-pg.XXXXXX)
chown postgres "$dir"
su postgres -c "$bin/initdb -D '$dir/data' -A trust -U postgres" >/dev/null
su postgres -c "$bin/pg_ctl -D '$dir/data' -l '$dir/log' -o \"-h 127.0.0.1 -p $port -k '$dir'\" -w start" >/dev/null
echo "$dir" > "${PGDIRFILE:-/dev/null}"
echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
