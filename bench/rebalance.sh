#!/usr/bin/env bash
# Consumer group rebalance time on a real single-node mqd: a member joins,
# leaves cleanly, dies (SIGKILL) — time until every partition is owned again.
# Usage: bench/rebalance.sh [ROUNDS] [SESSION_MS]   (defaults 5, 3000)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
SESSION=${2:-3000}
BIN=build/bin
TMP=$(mktemp -d -t mq-rebalance.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT

cat > "$TMP/mqd.toml" <<TOML
data_dir = "$TMP/data"
[listeners]
client = "tcp://127.0.0.1:0"
[http]
address = "127.0.0.1:0"
[group]
min_session_timeout_ms = 1000
TOML
"$BIN/mqd" --config "$TMP/mqd.toml" 2>"$TMP/mqd.log" &
PID=$!
for _ in $(seq 100); do grep -q "serving clients on" "$TMP/mqd.log" && break; sleep 0.1; done
EP=$(sed -n 's/.*serving clients on tcp:\/\/\([^ ]*\).*/\1/p' "$TMP/mqd.log")
[ -n "$EP" ] || { cat "$TMP/mqd.log"; exit 1; }
echo "mqd $($BIN/mqd --version | awk '{print $2}') on $EP, $(nproc) cores"
"$BIN/rebalance-bench" --brokers "$EP" --rounds "$ROUNDS" --session-ms "$SESSION" \
  --heartbeat-ms $((SESSION / 3))
