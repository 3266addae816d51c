# Sourced by the benchmark scripts that load one mqd through mqctl: starts
# build/bin/mqd on a free loopback port with its data in a fresh temp dir
# ($TMP, removed with mqd on exit), exports MQ_BROKERS and prints the
# machine line. Usage: [CURVE=1] source bench/one_mqd.sh NAME
BIN=${BIN:-build/bin}
TMP=$(mktemp -d -t "mq-$1-bench.XXXXXX")
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
# CURVE=1: every connection encrypted (docs/security.md); mqctl finds the
# key in $MQ_SERVER_KEY.
if [ "${CURVE:-0}" = 1 ]; then
  export MQ_SERVER_KEY=$("$BIN/mqctl" keygen "$TMP/cluster")
  printf '[security]\ncurve_secret_key_file = "%s"\n' "$TMP/cluster.secret" >> "$TMP/mqd.toml"
fi
"$BIN/mqd" --config "$TMP/mqd.toml" 2>"$TMP/mqd.log" &
PID=$!
export MQ_BROKERS=127.0.0.1:$PORT
for _ in $(seq 100); do "$BIN/mqctl" topic list >/dev/null 2>&1 && break; sleep 0.1; done
echo "mqd $($BIN/mqd --version | awk '{print $2}'), 1 node on 127.0.0.1, CURVE ${CURVE:-0}, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
