#!/usr/bin/env bash
# Delayed delivery's lateness with MESSAGES (default 1,000,000) pending, as
# an operator sends them: `mqctl produce -f` with each record's own
# mq.deliver-at, 100-byte values over PARTITIONS (default 8) partitions. The
# delivery times are spread evenly over SPREAD seconds (default 60) starting
# LEAD seconds (default 20) after the run begins, so every message is pending
# before the first falls due. Then every delivered copy is read back and its
# lateness taken as its timestamp (the broker's clock when the leader
# appended it) minus its mq.deliver-at: what a consumer polling without
# delay sees, less its fetch latency. Prints the pending count before the
# first is due, the delivery rate, and the lateness percentiles.
# SPREAD 0 makes every message due at once: the lateness is then the time
# the leader takes to deliver them all.
# Usage: bench/delayed.sh [MESSAGES] [PARTITIONS] [SPREAD] [LEAD]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
PARTITIONS=${2:-8}
SPREAD=${3:-60}
LEAD=${4:-20}
source bench/one_mqd.sh delayed

"$BIN/mqctl" topic create delayed -p "$PARTITIONS" >/dev/null
START=$(($(date +%s%3N) + LEAD * 1000))
awk -v n="$N" -v start="$START" -v spread="$SPREAD" \
  'BEGIN { v = sprintf("%0100d", 0); for (i = 0; i < n; i++) printf "%.0f %s\n", start + int(i * spread * 1000 / n), v }' \
  >"$TMP/input"
t0=$(date +%s%N)
"$BIN/mqctl" produce delayed -f '{header.mq.deliver-at} {value}\n' <"$TMP/input"
t1=$(date +%s%N)
awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { printf "produced %d delayed messages: %.2f M msg/s (%.2f s)\n", n, n / ns * 1000, ns / 1e9 }'
pending=$("$BIN/mqctl" delayed list delayed -n 1 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')
echo "pending before the first is due: $pending ($(((START - $(date +%s%3N)) / 1000)) s before it)"

# Wait for the last one's time, then for nothing to be pending.
while [ "$(date +%s%3N)" -lt $((START + SPREAD * 1000)) ]; do sleep 1; done
for _ in $(seq 120); do
  pending=$("$BIN/mqctl" delayed list delayed -n 1 -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')
  [ "$pending" = 0 ] && break
  sleep 0.5
done
echo "pending after the last one's time: $pending"
# Lateness, and the delivery time relative to the first one's due time.
"$BIN/mqctl" consume delayed --from beginning -e -f '{timestamp} {header.mq.deliver-at}\n' |
  awk -v start="$START" '{ print $1 - $2, $1 - start }' | sort -n >"$TMP/lateness"
awk '
  { v[NR] = $1; if (NR == 1 || $2 > last) last = $2 }
  END {
    n = NR
    printf "delivered %d, the last %.1f s after the first was due\n", n, last / 1000
    printf "lateness ms: min %d  p50 %d  p90 %d  p99 %d  p99.9 %d  max %d\n",
      v[1], v[int(n * 0.5)], v[int(n * 0.9)], v[int(n * 0.99)], v[int(n * 0.999)], v[n]
  }' "$TMP/lateness"
curl -s "http://$(grep -o 'HTTP on [0-9.:]*' "$TMP/mqd.log" | head -1 | cut -d' ' -f3)/metrics" |
  grep -E '^mq_delayed_lateness_seconds_(count|sum)' || true
