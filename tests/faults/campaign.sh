#!/usr/bin/env bash
# A fault campaign (docs/faults.md, "Campaigns"): RUNS runs of DURATION for
# each fault type in FAULTS, one seed per run, then a report with the counts
# per fault type. Needs root. Usage (make faults sets the defaults):
#
#   tests/faults/campaign.sh [BUILD_DIR]
#     RUNS=20 DURATION=5m FAULTS="kill pause partition flaky power-loss disk-full clock corrupt all"
#     FIRST_SEED=1 OUT=bench/faults/runs REPORT=bench/faults/report.md
#
# Exit status: 0 when every run was clean, 1 otherwise.
set -uo pipefail

BUILD_DIR=${1:-build}
RUNS=${RUNS:-20}
DURATION=${DURATION:-5m}
FAULTS=${FAULTS:-"kill pause partition flaky power-loss disk-full clock corrupt all"}
FIRST_SEED=${FIRST_SEED:-1}
OUT=${OUT:-bench/faults/runs}
REPORT=${REPORT:-bench/faults/report.md}
BIN="$BUILD_DIR/bin/mq-faults"

[ -x "$BIN" ] || { echo "campaign: $BIN is missing (make build)" >&2; exit 2; }
mkdir -p "$OUT" "$(dirname "$REPORT")"

started=$(date -u +%Y-%m-%dT%H:%MZ)
rows=""
failed=0
for fault in $FAULTS; do
  clean=0; dirty=0; acked=0; injected=0; kinds=""; seeds=""
  for ((i = 0; i < RUNS; i++)); do
    seed=$((FIRST_SEED + i))
    dir="$OUT/$fault-$seed"
    rm -rf "$dir"
    "$BIN" --seed "$seed" --duration "$DURATION" --faults "$fault" --out "$dir" >"$dir.out" 2>&1
    rc=$?
    summary="$dir/report.txt"
    if [ "$rc" -eq 0 ]; then
      clean=$((clean + 1))
    else
      dirty=$((dirty + 1)); failed=1; seeds="$seeds $seed(exit $rc)"
    fi
    if [ -f "$summary" ]; then
      acked=$((acked + $(sed -n 's/^sends: \([0-9]*\) acknowledged.*/\1/p' "$summary" | head -1)))
      injected=$((injected + $(sed -n 's/.*faults: \([0-9]*\)$/\1/p' "$summary" | head -1)))
      kinds="$kinds $(sed -n 's/^anomalies: [0-9]*, //p' "$summary" | head -1)"
    fi
    echo "campaign: $fault seed $seed: exit $rc" >&2
  done
  kinds=$(echo "$kinds" | xargs)
  rows="$rows| $fault | $RUNS | $clean | $dirty | $injected | $acked | ${kinds:-none} |${seeds:+ failed:$seeds} |\n"
done

{
  echo "# Fault campaign, $started"
  echo
  echo "\`RUNS=$RUNS DURATION=$DURATION FAULTS=\"$FAULTS\" FIRST_SEED=$FIRST_SEED make faults\`"
  echo "on $(nproc) cores, $(uname -sr), mq $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
  echo "Three nodes, the workload and checker of docs/faults.md. Runs: $OUT."
  echo
  echo "| Fault | Runs | Clean | With anomalies | Faults injected | Sends acknowledged | Anomalies | |"
  echo "|---|---|---|---|---|---|---|---|"
  printf "%b" "$rows"
} >"$REPORT"
cat "$REPORT"
exit $failed
