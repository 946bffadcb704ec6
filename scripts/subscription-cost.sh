#!/usr/bin/env bash
# Measures what Subscriptions cost a write, for BENCHMARKS.md: HTTP ingest of
# transaction Bundles (as scripts/benchmarks.sh measures it unmapped, with the
# health check off) and single creates, on four gateways per round, each on a
# fresh database:
#
#   base      the build before Subscriptions existed (BASE, default 084d006)
#   none      this build, no Subscription stored
#   idle      this build, 10 active Subscriptions whose criteria match nothing sent
#   matching  this build, one active Subscription on every requested Task (ten per
#             Bundle), with the resource as payload, delivered to `loadtest receive`;
#             the creates start once every notification of the ingest is delivered,
#             and the time that took after the ingest ended is printed
#
#   scripts/subscription-cost.sh
#   BENCH_POSTGRES=postgres://postgres@127.0.0.1:55432/postgres ROUNDS=5 scripts/subscription-cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
CONCURRENCY=${CONCURRENCY:-4}
PORT=${PORT:-18099}
RECEIVER=${RECEIVER:-127.0.0.1:18098}
BASE=${BASE:-084d006}
work=$(mktemp -d /tmp/carebridge-subcost.XXXXXX)
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  rm -rf "$work"
  if [ -n "${BENCH_POSTGRES:-}" ]; then
    for db in $(psql -At "$BENCH_POSTGRES" -c "SELECT datname FROM pg_database WHERE datname LIKE 'subcost\_%'"); do
      psql -q "$BENCH_POSTGRES" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
    done
  fi
}
trap cleanup EXIT

mkdir "$work/base"
git archive "$BASE" | tar -x -C "$work/base"
(cd "$work/base" && go build -o "$work/carebridge-base" ./cmd/carebridge)
go build -o "$work/carebridge" ./cmd/carebridge
go build -o "$work/loadtest" ./cmd/loadtest
echo "# $(go version), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); base $(git rev-parse --short "$BASE"), head $(git rev-parse --short HEAD)"
printf 'healthCheck: {disabled: true}\n' >"$work/nocheck.yaml"

# serve, stop and fresh; serve runs $carebridge when set.
. scripts/gateway.sh

# subscribe ID CRITERIA [PAYLOAD]: stores an active Subscription to the receiver.
subscribe() {
  local payload=""
  if [ -n "${3:-}" ]; then payload=",\"payload\":\"$3\""; fi
  curl -sf -o /dev/null -X PUT -H 'Content-Type: application/fhir+json' "http://127.0.0.1:$PORT/fhir/Subscription/$1" \
    -d "{\"resourceType\":\"Subscription\",\"id\":\"$1\",\"status\":\"requested\",\"reason\":\"benchmark\",\"criteria\":\"$2\",\"channel\":{\"type\":\"rest-hook\",\"endpoint\":\"http://$RECEIVER/hook\"$payload}}"
}

# measure ENGINE ROUND NAME: ingest and creates against the running gateway;
# for matching, between the two, waits until no notification is pending.
measure() {
  echo "$1 round $2: $3 $("$work/loadtest" ingest --target "http://127.0.0.1:$PORT/fhir" --bundles 200 --size 100 --concurrency "$CONCURRENCY" --source "" 2>/dev/null)"
  if [ "$3" = matching ]; then
    local start=$(date +%s.%N)
    until curl -sf "http://127.0.0.1:$PORT/fhir/\$outbox?state=pending&_count=1" | grep -q '"name":"count","valueInteger":0'; do sleep 0.05; done
    echo "$1 round $2: $3 delivery: the last of the ingest's notifications delivered $(echo "$(date +%s.%N) - $start" | bc | xargs printf '%.2f') s after the ingest ended"
  fi
  echo "$1 round $2: $3 $("$work/loadtest" create --target "http://127.0.0.1:$PORT/fhir" --n 2000 2>/dev/null)"
}

"$work/loadtest" receive --addr "$RECEIVER" >"$work/receiver.log" 2>&1 &
engines=(sqlite)
if [ -n "${BENCH_POSTGRES:-}" ]; then engines+=(postgres); fi
for engine in "${engines[@]}"; do
  for round in $(seq "$ROUNDS"); do
    carebridge="$work/carebridge-base" serve "$(fresh "$engine" "subcost_base_$round")" --config "$work/nocheck.yaml"
    measure "$engine" "$round" base
    stop
    serve "$(fresh "$engine" "subcost_none_$round")" --config "$work/nocheck.yaml"
    measure "$engine" "$round" none
    stop
    serve "$(fresh "$engine" "subcost_idle_$round")" --config "$work/nocheck.yaml"
    for i in $(seq 0 9); do subscribe "idle$i" "Task?owner=https://fhir.nhs.uk/Id/ods-organization-code|Z9999$i"; done
    measure "$engine" "$round" idle
    stop
    serve "$(fresh "$engine" "subcost_matching_$round")" --config "$work/nocheck.yaml"
    subscribe matching "Task?status=requested" application/fhir+json
    measure "$engine" "$round" matching
    stop
  done
done
