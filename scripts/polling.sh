#!/usr/bin/env bash
# Measures Task polling, end to end over HTTP: seeds TASKS Tasks over
# PRACTICES practices through the gateway, brings every practice's $changes
# cursor up to date, then polls open-loop at RATE requests/s for DURATION
# (half Task/$changes from the stored cursor, half
# Task?owner:identifier=...&status=requested searches) and prints achieved
# requests/s, p50, p99 and errors. Runs on SQLite, and on PostgreSQL when
# BENCH_POSTGRES names a server this script may create databases on.
#
#   scripts/polling.sh
#   BENCH_POSTGRES=postgres://postgres@127.0.0.1:55432/postgres RATE=2000 DURATION=60s scripts/polling.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TASKS=${TASKS:-100000}
PRACTICES=${PRACTICES:-1000}
RATE=${RATE:-2000}
DURATION=${DURATION:-30s}
PORT=${PORT:-18197}
work=$(mktemp -d /tmp/carebridge-polling.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/carebridge" ./cmd/carebridge
go build -o "$work/loadtest" ./cmd/loadtest
echo "# $(go version), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# serve DB: starts a gateway on DB and waits for it to be ready. Logs at
# warn, so that 2,000 request lines a second do not cost the measurement.
serve() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    echo "port $PORT is taken by another process; set PORT" >&2; exit 1
  fi
  "$work/carebridge" serve --db "$1" --addr "127.0.0.1:$PORT" --log-level warn >"$work/gateway.log" 2>&1 &
  gateway=$!
  for _ in $(seq 100); do
    if "$work/carebridge" healthcheck --url "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then return; fi
    sleep 0.1
  done
  cat "$work/gateway.log"; exit 1
}
stop() { kill "$gateway"; wait "$gateway" 2>/dev/null || true; }

# fresh ENGINE NAME: prints a new, empty database URL.
fresh() {
  if [ "$1" = sqlite ]; then echo "sqlite:$work/$2.db"; return; fi
  psql -q "$BENCH_POSTGRES" -c "DROP DATABASE IF EXISTS $2" -c "CREATE DATABASE $2" >/dev/null 2>&1
  echo "${BENCH_POSTGRES%/*}/$2"
}

engines=(sqlite)
if [ -n "${BENCH_POSTGRES:-}" ]; then engines+=(postgres); fi
for engine in "${engines[@]}"; do
  db=$(fresh "$engine" bench_polling)
  serve "$db"
  "$work/loadtest" poll --target "http://127.0.0.1:$PORT/fhir" --tasks "$TASKS" --practices "$PRACTICES" --duration 0s >/dev/null
  # Gather the planner statistics that autovacuum would a minute after a
  # bulk load; without them PostgreSQL guesses one row everywhere.
  if [ "$engine" = postgres ]; then psql -q "$db" -c 'VACUUM ANALYZE'; fi
  echo "$engine: $("$work/loadtest" poll --target "http://127.0.0.1:$PORT/fhir" --tasks 0 --practices "$PRACTICES" --rate "$RATE" --duration "$DURATION")"
  stop
done
