#!/usr/bin/env bash
# Starts a throwaway PostgreSQL on 127.0.0.1:$PGPORT (default 25432) with a
# temporary data directory, as the postgres user, and prints the URL the
# tests read from LLMEDGE_TEST_POSTGRES. "stop DIR" stops it and removes DIR.
# Idempotent: a server already answering on the port is reused.
#
# The default port is below Linux's ephemeral range (32768-60999): the old
# default, 55432, was inside it, and twice a test's outgoing connection held
# it as its local port when the server tried to bind ("Address already in
# use"). A port that is taken anyway is skipped for the next of five.
set -euo pipefail
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
port=${PGPORT:-25432}
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
for try in 1 2 3 4 5; do
  if su postgres -c "$bin/pg_ctl -D '$dir/data' -l '$dir/log' -o \"-h 127.0.0.1 -p $port -k '$dir'\" -w start" >/dev/null; then
    break
  fi
  if [ $try = 5 ]; then
    cat "$dir/log" >&2
    exit 1
  fi
  port=$((port + 1))
done
echo "$dir" > "${PGDIRFILE:-/dev/null}"
echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
