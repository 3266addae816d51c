# Sourced by the benchmark scripts that load one mqd through mqctl: starts
# build/bin/mqd on a free loopback port with its data in a fresh temp dir
# ($TMP, removed with mqd on exit), exports MQ_BROKERS and prints the
# machine line. Usage: [CURVE=1 | AUTH=1] source bench/one_mqd.sh NAME
# AUTH=1 is CURVE with authentication and authorization on: a principals
# file of the broker, `client` and the super-user `admin`; $CLIENT_KEY and
# $ADMIN_KEY are mqctl flags that connect as each (the client has no ACLs:
# the script adds what it needs).
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
CLIENT_KEY=
ADMIN_KEY=
if [ "${CURVE:-0}" = 1 ] || [ "${AUTH:-0}" = 1 ]; then
  export MQ_SERVER_KEY=$("$BIN/mqctl" keygen "$TMP/cluster")
  printf '[security]\ncurve_secret_key_file = "%s"\n' "$TMP/cluster.secret" >> "$TMP/mqd.toml"
fi
if [ "${AUTH:-0}" = 1 ]; then
  for who in broker client admin; do
    printf '%s %s\n' "$who" "$("$BIN/mqctl" keygen "$TMP/$who")" >> "$TMP/principals"
  done
  sed -i 's/^broker /broker:1 /' "$TMP/principals"
  printf 'broker_secret_key_file = "%s"\nprincipals_file = "%s"\nauthorization = true\nsuper_users = "admin"\n' \
    "$TMP/broker.secret" "$TMP/principals" >> "$TMP/mqd.toml"
  CLIENT_KEY="--secret-key-file $TMP/client.secret"
  ADMIN_KEY="--secret-key-file $TMP/admin.secret"
fi
"$BIN/mqd" --config "$TMP/mqd.toml" 2>"$TMP/mqd.log" &
PID=$!
export MQ_BROKERS=127.0.0.1:$PORT
# shellcheck disable=SC2086  # the key flags are two words
for _ in $(seq 100); do "$BIN/mqctl" $ADMIN_KEY topic list >/dev/null 2>&1 && break; sleep 0.1; done
echo "mqd $($BIN/mqd --version | awk '{print $2}'), 1 node on 127.0.0.1, CURVE $([ "${AUTH:-0}" = 1 ] && echo 1 || echo "${CURVE:-0}"), AUTH ${AUTH:-0}, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
