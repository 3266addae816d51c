#!/usr/bin/env bash
# Key lookup over a large topic, as an operator runs it: `mqctl message find
# TOPIC --key K` (the FindMessages request to every partition's leader, which
# scans the segments' key indexes and reads the matching records).
# MESSAGES messages (default 10,000,000) of 100 bytes in 4 partitions, keyed
# order-<i mod 1,000,000>: each key has MESSAGES / 1,000,000 records spread
# over the partitions by key hash (all in one partition). Then LOOKUPS
# lookups (default 50) of random keys, each a fresh mqctl process, timed
# from start to exit (process start included), and one lookup of a key that
# does not exist.
# Usage: bench/keys.sh [MESSAGES] [LOOKUPS]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
LOOKUPS=${2:-50}
source bench/one_mqd.sh keys

"$BIN/mqctl" topic create keys -p 4 >/dev/null
start=$(date +%s.%N)
awk -v n="$N" 'BEGIN { v = sprintf("%0100d", 0); for (i = 0; i < n; i++) print "order-" (i % 1000000) ":" v }' |
  "$BIN/mqctl" produce keys --key-separator : --acks 1
end=$(date +%s.%N)
awk -v n="$N" -v s="$start" -v e="$end" 'BEGIN { printf "produced %d keyed messages in %.1f s\n", n, e - s }'
du -sh "$TMP/data" | awk '{print "data directory: " $1}'
ls "$TMP"/data/keys-*/*.keyindex | xargs du -cb | tail -1 | awk '{printf "key index files: %.1f MB\n", $1 / 1e6}'

sync
: >"$TMP/ms"
for _ in $(seq "$LOOKUPS"); do
  key="order-$((RANDOM * 32768 % 1000000 + RANDOM % 32768))"
  key="order-$(( ${key#order-} % 1000000 ))"
  t0=$(date +%s%N)
  found=$("$BIN/mqctl" message find keys --key "$key" | wc -l)
  t1=$(date +%s%N)
  echo "$(( (t1 - t0) / 1000 )) $found" >>"$TMP/ms"
done
sort -n "$TMP/ms" | awk -v n="$LOOKUPS" '
  { us[NR] = $1; found += $2 }
  END {
    p99 = int(n * 0.99) + 1
    if (p99 > n) p99 = n
    printf "message find, %d random keys: p50 %.1f ms, p99 %.1f ms, max %.1f ms, %.1f messages found per key\n",
      n, us[int(n * 0.5) + 1] / 1000, us[p99] / 1000, us[n] / 1000, found / n
  }'
t0=$(date +%s%N)
"$BIN/mqctl" message find keys --key no-such-key >/dev/null
t1=$(date +%s%N)
echo "message find of a missing key: $(( (t1 - t0) / 1000000 )) ms"
t0=$(date +%s%N)
"$BIN/mqctl" topic list >/dev/null
t1=$(date +%s%N)
echo "for scale, mqctl topic list: $(( (t1 - t0) / 1000000 )) ms"
