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
#   BENCH_POSTGRES=postgres://postgres@127.0.0.1:55432/postgres RATES="500 1000 2000" SHARES="0.5 1" DURATION=20s scripts/polling.sh
#
# RATES and SHARES (the share of $changes polls) are lists: every pair is
# measured on the same seeded database.
set -euo pipefail
cd "$(dirname "$0")/.."

TASKS=${TASKS:-100000}
PRACTICES=${PRACTICES:-1000}
RATES=${RATES:-${RATE:-2000}}
SHARES=${SHARES:-0.5}
DURATION=${DURATION:-30s}
PORT=${PORT:-18197}
work=$(mktemp -d /tmp/carebridge-polling.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/carebridge" ./cmd/carebridge
go build -o "$work/loadtest" ./cmd/loadtest
echo "# $(go version), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# serve, stop and fresh.
. scripts/gateway.sh

engines=(sqlite)
if [ -n "${BENCH_POSTGRES:-}" ]; then engines+=(postgres); fi
for engine in "${engines[@]}"; do
  db=$(fresh "$engine" bench_polling)
  serve "$db"
  "$work/loadtest" poll --target "http://127.0.0.1:$PORT/fhir" --tasks "$TASKS" --practices "$PRACTICES" --duration 0s >/dev/null
  # Gather the planner statistics that autovacuum would a minute after a
  # bulk load; without them PostgreSQL guesses one row everywhere.
  if [ "$engine" = postgres ]; then psql -q "$db" -c 'VACUUM ANALYZE'; fi
  for share in $SHARES; do
    for rate in $RATES; do
      echo "$engine, $share \$changes: $("$work/loadtest" poll --target "http://127.0.0.1:$PORT/fhir" --tasks 0 --practices "$PRACTICES" --rate "$rate" --changes-share "$share" --duration "$DURATION" 2>/dev/null)"
    done
  done
  stop
done
