#!/usr/bin/env bash
# Queue consumption as an operator runs it: MESSAGES (default 1,000,000) of
# 100 bytes in PARTITIONS (default 4) partitions, then CONSUMERS (default 4)
# `mqctl queue receive -g bench -n MESSAGES/CONSUMERS --batch BATCH` in
# parallel, each receiving up to BATCH (default 10000) messages per request
# and acknowledging each batch once printed (to a file). Prints acknowledged messages per second from
# the first receive to the last ack, and checks every message was received
# exactly once (then nothing is left for the group).
# Usage: bench/queue.sh [MESSAGES] [PARTITIONS] [CONSUMERS] [BATCH]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
PARTITIONS=${2:-4}
CONSUMERS=${3:-4}
BATCH=${4:-10000}
source bench/one_mqd.sh queue

"$BIN/mqctl" topic create jobs -p "$PARTITIONS" >/dev/null
awk -v n="$N" 'BEGIN { v = sprintf("%094d", 0); for (i = 0; i < n; i++) printf "%06d%s\n", i, v }' |
  "$BIN/mqctl" produce jobs >/dev/null
per=$((N / CONSUMERS))
t0=$(date +%s%N)
pids=()
for c in $(seq "$CONSUMERS"); do
  "$BIN/mqctl" queue receive jobs -g bench -n "$per" --batch "$BATCH" --wait 30s -f "{partition}:{offset}\n" \
    >"$TMP/got.$c" &
  pids+=($!)
done
wait "${pids[@]}"
t1=$(date +%s%N)
got=$(cat "$TMP"/got.* | wc -l)
unique=$(cat "$TMP"/got.* | sort -u | wc -l)
awk -v n="$got" -v ns=$((t1 - t0)) -v c="$CONSUMERS" -v p="$PARTITIONS" -v b="$BATCH" \
  'BEGIN { printf "queue receive + ack, %d consumers, %d partitions, batch %d: %.0f k acked msg/s (%d in %.2f s)\n", c, p, b, n / ns * 1e6, n, ns / 1e9 }'
echo "received $got, distinct $unique; left for the group: $("$BIN/mqctl" queue receive jobs -g bench -n 10 --wait 1s | wc -l)"
