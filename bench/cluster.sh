#!/usr/bin/env bash
# acks=all throughput of a three-node cluster on this machine, in one run:
# three mqd processes (cluster.voters, one quorum port each), a topic with a
# replication factor of 3, min.insync.replicas 2 and PARTITIONS partitions,
# then `mqctl bench produce --acks all` with 100-byte messages and PRODUCERS
# producers of THREADS sending threads each, and `mqctl bench consume` of it all. Prints mqctl's JSON lines
# and each mqd's CPU per message.
# Usage: [MQD=PATH] [CURVE=1] bench/cluster.sh [MESSAGES] [PARTITIONS] [PRODUCERS] [THREADS]   (default 2,000,000 6 4 1)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
P=${2:-6}
PRODUCERS=${3:-4}
THREADS=${4:-1}
BIN=build/bin
MQD=${MQD:-$BIN/mqd}  # MQD=PATH: another build's mqd, to compare (mqctl stays this build's)
TMP=$(mktemp -d -t mq-cluster-bench.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
  [ -n "${KEEP:-}" ] && cp -r "$TMP" /tmp/mq/bench-keep; rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
declare -A CLIENT QUORUM
for i in 1 2 3; do CLIENT[$i]=$(free_port); QUORUM[$i]=$(free_port); done
VOTERS="1@127.0.0.1:${QUORUM[1]},2@127.0.0.1:${QUORUM[2]},3@127.0.0.1:${QUORUM[3]}"
# CURVE=1: every connection encrypted with one cluster key (docs/security.md).
SECURITY=
if [ "${CURVE:-0}" = 1 ]; then
  export MQ_SERVER_KEY=$("$BIN/mqctl" keygen "$TMP/cluster")
  SECURITY=$(printf '[security]\ncurve_secret_key_file = "%s"' "$TMP/cluster.secret")
fi
for i in 1 2 3; do
  cat > "$TMP/node$i.toml" <<TOML
node_id = $i
data_dir = "$TMP/node$i"
[listeners]
client = "tcp://127.0.0.1:${CLIENT[$i]}"
[http]
address = "127.0.0.1:0"
[cluster]
voters = "$VOTERS"
[replication]
fetch_max_wait_ms = ${FETCH_WAIT:-200}
$SECURITY
TOML
  "$MQD" --config "$TMP/node$i.toml" 2>"$TMP/node$i.log" &
  PIDS+=($!)
done
BROKERS="127.0.0.1:${CLIENT[1]},127.0.0.1:${CLIENT[2]},127.0.0.1:${CLIENT[3]}"
for _ in $(seq 100); do
  [ "$("$BIN/mqctl" -b "$BROKERS" cluster brokers -o json 2>/dev/null | grep -c '"fenced": false')" = 3 ] && break
  sleep 0.2
done
echo "mqd $($MQD --version | awk '{print $2}'), 3 nodes on 127.0.0.1, CURVE ${CURVE:-0}, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
"$BIN/mqctl" -b "$BROKERS" topic create bench -p "$P" -r 3 -c min.insync.replicas=2 >/dev/null
sleep 1  # every leader has opened its replica

CLK=$(getconf CLK_TCK)
ticks() { local t=0 pid; for pid in "${PIDS[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo $t; }
cpu() { awk -v t="$1" -v n="$N" -v hz="$CLK" 'BEGIN{printf "%.2f", t / hz * 1e6 / n}'; }
t0=$(ticks)
echo "produce acks=all rf=3 partitions=$P producers=$PRODUCERS threads=$THREADS: $("$BIN/mqctl" -b "$BROKERS" -o json bench produce --topic bench --count "$N" --size 100 --acks all --producers "$PRODUCERS" --threads "$THREADS")"
t1=$(ticks)
echo "  all three mqd together: $(cpu $((t1 - t0))) us CPU per message"
echo "consume: $("$BIN/mqctl" -b "$BROKERS" -o json bench consume --topic bench --count "$N")"
