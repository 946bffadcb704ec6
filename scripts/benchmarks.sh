#!/usr/bin/env bash
# Runs the measurements quoted in BENCHMARKS.md: HTTP ingest of transaction
# Bundles (without the shared-care projection, with it, and with it and the
# health check reconciled on every write), single-create latency and the
# no-HTTP ceiling, on SQLite and (when
# BENCH_POSTGRES names a server this script may create databases on) on
# PostgreSQL. Each measurement runs ROUNDS times on a fresh database; quote
# the medians.
#
#   scripts/benchmarks.sh
#   BENCH_POSTGRES=postgres://postgres@127.0.0.1:55432/postgres ROUNDS=5 scripts/benchmarks.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
CONCURRENCY=${CONCURRENCY:-4}
PORT=${PORT:-18099}
work=$(mktemp -d /tmp/carebridge-bench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/carebridge" ./cmd/carebridge
go build -o "$work/loadtest" ./cmd/loadtest
echo "# $(go version), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# A configuration without the health check, to measure what it costs.
printf 'healthCheck: {disabled: true}\n' >"$work/nocheck.yaml"

# serve, stop and fresh.
. scripts/gateway.sh

engines=(sqlite)
if [ -n "${BENCH_POSTGRES:-}" ]; then engines+=(postgres); fi
for engine in "${engines[@]}"; do
  for round in $(seq "$ROUNDS"); do
    serve "$(fresh "$engine" "bench_plain_$round")" --config "$work/nocheck.yaml"
    echo "$engine round $round: unmapped $("$work/loadtest" ingest --target "http://127.0.0.1:$PORT/fhir" --bundles 200 --size 100 --concurrency "$CONCURRENCY" --source "" 2>/dev/null)"
    stop
    serve "$(fresh "$engine" "bench_mapped_$round")" --config "$work/nocheck.yaml"
    echo "$engine round $round: mapped $("$work/loadtest" ingest --target "http://127.0.0.1:$PORT/fhir" --bundles 200 --size 100 --concurrency "$CONCURRENCY" 2>/dev/null)"
    stop
    serve "$(fresh "$engine" "bench_ingest_$round")"
    echo "$engine round $round: checked $("$work/loadtest" ingest --target "http://127.0.0.1:$PORT/fhir" --bundles 200 --size 100 --concurrency "$CONCURRENCY" 2>/dev/null)"
    echo "$engine round $round: $("$work/loadtest" create --target "http://127.0.0.1:$PORT/fhir" --n 2000 2>/dev/null)"
    stop
    echo "$engine round $round: $("$work/loadtest" ceiling --db "$(fresh "$engine" "bench_ceiling_$round")" --resources 20000 2>/dev/null)"
  done
done
