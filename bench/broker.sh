#!/usr/bin/env bash
# Load on a real single-node mqd on this machine, in one run:
#   1 partition, 1 producer: 100-byte messages in 16 KiB batches, acks=1, 32 in flight
#   consume everything back
#   8 partitions, 4 producers
#   produce latency at a steady 50,000 msg/s (10 messages per request)
# Prints broker-bench's RESULT lines plus mqd's CPU per message.
# Usage: bench/broker.sh [MESSAGES]   (default 2,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
BIN=${BIN:-build/bin}  # BIN=DIR: another build's binaries, to compare
TMP=$(mktemp -d -t mq-bench.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

cat > "$TMP/mqd.toml" <<TOML
data_dir = "$TMP/data"
[listeners]
client = "tcp://127.0.0.1:0"
[http]
address = "127.0.0.1:0"
TOML
"$BIN/mqd" --config "$TMP/mqd.toml" 2>"$TMP/mqd.log" &
PID=$!
for _ in $(seq 100); do grep -q "serving clients on" "$TMP/mqd.log" && break; sleep 0.1; done
EP=$(sed -n 's/.*serving clients on \(tcp:[^ ]*\).*/\1/p' "$TMP/mqd.log")
[ -n "$EP" ] || { cat "$TMP/mqd.log"; exit 1; }
echo "mqd $($BIN/mqd --version | awk '{print $2}') on $EP, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"

CLK=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
phase() {  # phase MESSAGES ARGS... : run broker-bench, print its result and mqd CPU per message
  local msgs=$1; shift
  local t0 t1 line
  t0=$(ticks)
  line=$("$BIN/broker-bench" --endpoint "$EP" "$@")
  t1=$(ticks)
  echo "$line server_cpu_us_per_msg=$(awk -v t=$((t1 - t0)) -v n="$msgs" -v hz="$CLK" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}')"
}
phase "$N" --mode produce --topic p1 --messages "$N"
phase "$N" --mode consume --topic p1
phase "$N" --mode produce --topic p8 --partitions 8 --producers 4 --messages "$N"
phase "$N" --mode consume --topic p8 --partitions 8
phase 500000 --mode latency --topic lat --rate 50000 --seconds 10
