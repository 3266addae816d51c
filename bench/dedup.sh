#!/usr/bin/env bash
# What de-duplication by message id costs a producer, as an operator runs it:
# `mqctl produce --key-separator : --msg-id-from key` (every message's key is
# its id, header mq.msg-id) against the same input without ids, into one
# partition each, alternating, then the same input again with ids (every
# message a duplicate, nothing appended). MESSAGES (default 2,000,000) of
# 100 bytes, keys msg-<i> all distinct; the topic's dedup.window.ms is the
# default 2 minutes, so every id of a run is in the window.
# Usage: bench/dedup.sh [MESSAGES] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
ROUNDS=${2:-2}
source bench/one_mqd.sh dedup

awk -v n="$N" 'BEGIN { v = sprintf("%0100d", 0); for (i = 0; i < n; i++) print "msg-" i ":" v }' >"$TMP/input"
run() {  # NAME TOPIC FLAGS...
  local name=$1 topic=$2
  shift 2
  sync
  local t0 t1
  t0=$(date +%s%N)
  "$BIN/mqctl" produce "$topic" --key-separator : -p 0 "$@" <"$TMP/input"
  t1=$(date +%s%N)
  awk -v n="$N" -v ns=$((t1 - t0)) -v name="$name" \
    'BEGIN { printf "%-34s %5.2f M msg/s (%.2f s)\n", name, n / ns * 1000, ns / 1e9 }'
}
for round in $(seq "$ROUNDS"); do
  "$BIN/mqctl" topic create "plain$round" -p 1 >/dev/null
  "$BIN/mqctl" topic create "ids$round" -p 1 >/dev/null
  run "without ids" "plain$round"
  run "with ids (all new)" "ids$round" --msg-id-from key
  run "with ids again (all duplicates)" "ids$round" --msg-id-from key
  echo "ids$round holds $("$BIN/mqctl" consume "ids$round" --from beginning -e | wc -l) messages"
done
