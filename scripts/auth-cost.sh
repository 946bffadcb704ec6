#!/usr/bin/env bash
# Measures what authentication, organisation-bound access and the audit
# trail cost HTTP ingest: the "checked" ingest of scripts/benchmarks.sh
# (transaction Bundles of 100 resources, projected and reconciled), with
# authentication off (--insecure-no-auth) and on (a bearer token per
# request, meta.source stamped, grants and person access written, one
# AuditEvent per Bundle in its transaction), ROUNDS times each on a fresh
# database, alternating. Quote the medians.
#
#   scripts/auth-cost.sh
#   BENCH_POSTGRES=postgres://postgres@127.0.0.1:55432/postgres ROUNDS=3 scripts/auth-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
CONCURRENCY=${CONCURRENCY:-4}
PORT=${PORT:-18099}
work=$(mktemp -d /tmp/carebridge-auth.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

go build -o "$work/carebridge" ./cmd/carebridge
go build -o "$work/loadtest" ./cmd/loadtest
echo "# $(go version), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

. scripts/gateway.sh
auth_setup

ingest() {
  "$work/loadtest" ingest --target "http://127.0.0.1:$PORT/fhir" --bundles 200 --size 100 --concurrency "$CONCURRENCY" 2>/dev/null
}

engines=(sqlite)
if [ -n "${BENCH_POSTGRES:-}" ]; then engines+=(postgres); fi
for engine in "${engines[@]}"; do
  for round in $(seq "$ROUNDS"); do
    serve "$(fresh "$engine" "auth_off_$round")"
    echo "$engine round $round: auth off: $(ingest)"
    stop
    insecure=false serve "$(fresh "$engine" "auth_on_$round")" --config "$work/auth.yaml"
    echo "$engine round $round: auth on: $(CAREBRIDGE_TOKEN=$(token) ingest)"
    stop
  done
done
