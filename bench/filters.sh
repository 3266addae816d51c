#!/usr/bin/env bash
# Tag-filtered and SQL-filtered consumption beside unfiltered, on one mqd:
# 5,000,000 100-byte messages in one partition, 1 % tagged "rare", the rest
# "common", in two layouts:
#   mixed    every batch holds both tags (every 100th message is rare): the tag
#            summary cannot skip anything, every batch is decoded;
#   grouped  rare messages come in runs of 1,000 every 100,000 (producers that batch by
#            tag): batches without "rare" are passed over undecoded.
# For each: `mqctl bench consume` unfiltered, with --tags rare, and with
# --filter "TAGS = 'rare'" (the property filter: always decoded), printing
# the consumer's figures (matching messages per second), the log scanned
# per second, and mqd's CPU for the phase.
# Usage: bench/filters.sh [MESSAGES]   (default 5,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5000000}
source bench/one_mqd.sh filters

# mqd's user + system CPU seconds so far.
mqd_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$PID/stat"; }

# produce TOPIC AWK_CONDITION_FOR_RARE
produce() {
  "$BIN/mqctl" topic create "$1" -p 1 >/dev/null
  awk -v n="$N" "BEGIN { v = sprintf(\"%0100d\", 0); for (i = 0; i < n; i++) print (($2) ? \"rare\" : \"common\") \"\t\" v }" |
    "$BIN/mqctl" produce "$1" -f '{header.mq.tag}\t{value}\n' --acks 1
}

# phase TOPIC COUNT LABEL [bench consume flags...]
phase() {
  local topic=$1 count=$2 label=$3; shift 3
  sync
  local before; before=$(mqd_cpu)
  "$BIN/mqctl" -o json bench consume --topic "$topic" --count "$count" "$@" >"$TMP/out"
  local after; after=$(mqd_cpu)
  python3 - "$TMP/out" "$N" "$label" "$before" "$after" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
n, label, cpu = int(sys.argv[2]), sys.argv[3], float(sys.argv[5]) - float(sys.argv[4])
print(f"  {label:<28} {r['count']:>9} msgs in {r['seconds']:6.2f} s: {r['msgs_per_sec']:>12,.0f} matching msg/s, "
      f"log scanned {n / r['seconds']:>12,.0f} msg/s, mqd CPU {cpu:5.2f} s")
PY
}

RARE=$((N / 100))
produce mixed '(i % 100) == 99'
produce grouped 'int(i / 1000) % 100 == 99'
for topic in mixed grouped; do
  echo "$topic:"
  phase "$topic" "$N" "unfiltered"
  phase "$topic" "$RARE" "--tags rare" --tags rare
  phase "$topic" "$RARE" "--filter \"TAGS = 'rare'\"" --filter "TAGS = 'rare'"
done
