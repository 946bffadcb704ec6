#!/usr/bin/env bash
# Measures a full health check reconciliation of a national-size SMI
# register, as quoted in BENCHMARKS.md: carebridge synth loads PEOPLE
# synthetic people (550,000 by default, the size of England's register)
# into a fresh SQLite database without reconciling on write, then
# carebridge reconcile runs twice at one date (the first raises the Tasks,
# the second must change nothing), and carebridge report counts both
# window modes. Each step is timed with /usr/bin/time -v (elapsed time and
# peak resident memory).
#
#   scripts/national.sh                 # 550,000 people in $WORK (default /tmp/carebridge-national)
#   PEOPLE=50000 scripts/national.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PEOPLE=${PEOPLE:-550000}
AS_OF=${AS_OF:-2026-11-23}
WORK=${WORK:-/tmp/carebridge-national}
mkdir -p "$WORK"
rm -f "$WORK"/national.db*
go build -o "$WORK/carebridge" ./cmd/carebridge
db="sqlite:$WORK/national.db"
echo "# $(go version), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $PEOPLE people at $AS_OF"

# timed NAME COMMAND...: runs the command, then prints its elapsed time and
# peak memory.
timed() {
  local name=$1; shift
  /usr/bin/time -v -o "$WORK/$name.time" "$@"
  echo "$name: elapsed $(grep 'Elapsed (wall clock)' "$WORK/$name.time" | awk '{print $NF}'), peak RSS $(( $(grep 'Maximum resident' "$WORK/$name.time" | awk '{print $NF}') / 1024 )) MiB"
}

printf 'healthCheck: {disabled: true}\n' >"$WORK/load.yaml"
timed load "$WORK/carebridge" synth --national --people "$PEOPLE" --as-of "$AS_OF" --db "$db" \
  --config "$WORK/load.yaml" --sqlite-synchronous NORMAL --log-level warn >"$WORK/load.out" 2>"$WORK/load.log"
head -2 "$WORK/load.out"
ls -l "$WORK/national.db" | awk '{printf "database: %.1f GiB\n", $5 / 1073741824}'
for run in first again; do
  timed "reconcile-$run" "$WORK/carebridge" reconcile --db "$db" --as-of "$AS_OF" --log-level warn 2>"$WORK/reconcile-$run.log"
done
timed report "$WORK/carebridge" report --db "$db" --as-of "$AS_OF" --out "$WORK/report.csv" --log-level warn
echo "report: $(($(wc -l <"$WORK/report.csv") - 1)) rows"
