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
BIN=build/bin
TMP=$(mktemp -d -t mq-clients-bench.XXXXXX)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$TMP/mqd.toml" <<TOML
node_id = 1
data_dir = "$TMP/data"
[listeners]
client = "tcp://127.0.0.1:$PORT"
[http]
address = "127.0.0.1:0"
TOML
"$BIN/mqd" --config "$TMP/mqd.toml" 2>"$TMP/mqd.log" &
PID=$!
export MQ_BROKERS=127.0.0.1:$PORT
for _ in $(seq 100); do "$BIN/mqctl" topic list >/dev/null 2>&1 && break; sleep 0.1; done
echo "mqd $($BIN/mqd --version | awk '{print $2}'), 1 node on 127.0.0.1, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

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
