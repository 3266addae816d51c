#!/usr/bin/env bash
# What a user of the client library and mqctl gets from one mqd, in one run:
# the public producer (one thread, one partition, acks=1), four producer
# threads over eight partitions, the public consumer, `seq | mqctl produce`,
# and produce latency at a steady 50 k msg/s. 100-byte messages. Each line
# is mqctl's JSON, with the client CPU (user + system of the mqctl process)
# per message where it is a client figure.
# Usage: bench/clients.sh [MESSAGES]   (default 3,000,000; seq uses 5,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3000000}
source bench/one_mqd.sh clients

# Runs mqctl under /usr/bin/time; prints its output and its CPU per message.
# Each phase starts with the page cache written back (sync), so it does not
# pay for the previous phase's writeback; its own is on it.
timed() {
  local count=$1; shift
  sync
  /usr/bin/time -f "%U %S" -o "$TMP/time" "$BIN/mqctl" "$@"
  awk -v n="$count" '{printf "  mqctl CPU: %.3f us per message (user %ss, sys %ss)\n", ($1 + $2) * 1e6 / n, $1, $2}' "$TMP/time"
}

"$BIN/mqctl" topic create p1 -p 1 >/dev/null
"$BIN/mqctl" topic create p8 -p 8 >/dev/null
echo "produce, 1 thread, 1 partition, acks=1:"
timed "$N" -o json bench produce --topic p1 --count "$N" --size 100 --acks 1
echo "produce, 4 threads sharing one producer, 8 partitions, acks=1:"
timed "$N" -o json bench produce --topic p8 --count "$N" --size 100 --acks 1 --threads 4
echo "produce, 4 producers (a thread each), 8 partitions, acks=1:"
timed "$N" -o json bench produce --topic p8 --count "$N" --size 100 --acks 1 --producers 4
echo "consume, 1 partition:"
timed "$N" -o json bench consume --topic p1 --count "$N"

SEQ=5000000
"$BIN/mqctl" topic create lines -p 1 >/dev/null
sync
start=$(date +%s.%N)
seq 1 "$SEQ" | /usr/bin/time -f "%U %S" -o "$TMP/time" "$BIN/mqctl" produce lines
end=$(date +%s.%N)
awk -v n="$SEQ" -v s="$start" -v e="$end" '{printf "seq 1 %d | mqctl produce lines: %.2f s, %.0f lines/s, mqctl CPU %.3f us per line\n", n, e - s, n / (e - s), ($1 + $2) * 1e6 / n}' "$TMP/time"

"$BIN/mqctl" topic create lat -p 1 >/dev/null
echo "produce at a steady 50,000 msg/s (10 s), acks=1, linger 0ms:"
sync
"$BIN/mqctl" -o json bench produce --topic lat --count 500000 --size 100 --acks 1 --rate 50000 --linger 0ms
