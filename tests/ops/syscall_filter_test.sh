#!/usr/bin/env bash
# mqd stays inside the sandbox of its systemd unit: run it under strace
# through start-up, produce, fetch, a metrics scrape, a reload and a stop, and
# check that every system call it makes passes the unit's SystemCallFilter and
# every socket it opens is of a family in RestrictAddressFamilies. Under
# systemd, a call outside the filter fails with EPERM (and ZeroMQ aborts on
# some of those), so this catches a new dependency before it reaches a host.
# Usage: syscall_filter_test.sh MQD BROKER_BENCH UNIT_FILE
set -euo pipefail
mqd=$1 bench=$2 unit=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/mq-syscalls-XXXXXX")
tracer=
cleanup() {
  [ -n "$tracer" ] && kill "$tracer" 2>/dev/null && wait "$tracer" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

# The unit's filter: its allow list minus its deny list, as systemd expands them.
expand() {  # expand GROUP_OR_CALL...: one system call name per line
  local item name
  for item in "$@"; do
    [[ $item == @* ]] || { echo "$item"; continue; }
    # The first line repeats the group's name; then a comment; then members.
    systemd-analyze syscall-filter "$item" 2>/dev/null | awk 'NR > 1 && $1 !~ /^#/ && NF == 1 {print $1}' |
      while read -r name; do expand "$name"; done
  done
}
filter_lines=$(sed -n 's/^SystemCallFilter=//p' "$unit")
allow=$(sed -n 1p <<<"$filter_lines")
deny=$(sed -n 2p <<<"$filter_lines")
[[ $allow != "~"* && $deny == "~"* ]] || { echo "expected an allow line then a ~deny line: $filter_lines" >&2; exit 1; }
# shellcheck disable=SC2086
comm -23 <(expand $allow | sort -u) <(expand ${deny#\~} | sort -u) >"$dir/allowed"
[ "$(wc -l <"$dir/allowed")" -gt 100 ] || { echo "could not expand $allow" >&2; exit 1; }
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")

cat >"$dir/mqd.toml" <<TOML
data_dir = "$dir/data"
[listeners]
client = "tcp://127.0.0.1:0"
[http]
address = "127.0.0.1:0"
TOML
strace -f -qq -o "$dir/trace" "$mqd" --config "$dir/mqd.toml" 2>"$dir/mqd.log" &
tracer=$!
for _ in $(seq 300); do grep -q "serving clients on" "$dir/mqd.log" && break; sleep 0.1; done
endpoint=$(sed -n 's/.*serving clients on \(tcp:[^ ]*\).*/\1/p' "$dir/mqd.log")
http_port=$(sed -n 's/.*HTTP on 127.0.0.1:\([0-9]*\).*/\1/p' "$dir/mqd.log")
[ -n "$endpoint" ] && [ -n "$http_port" ] || { cat "$dir/mqd.log" >&2; exit 1; }
pid=$(pgrep -P "$tracer" -x mqd)

"$bench" --endpoint "$endpoint" --mode produce --topic t --partitions 2 --messages 20000 >/dev/null
"$bench" --endpoint "$endpoint" --mode consume --topic t --partitions 2 >/dev/null
exec 3<>"/dev/tcp/127.0.0.1/$http_port"
printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3
grep -q '^mq_partition_log_end_offset' <&3 || { echo "no metrics from mqd" >&2; exit 1; }
exec 3<&-
kill -HUP "$pid"
for _ in $(seq 100); do grep -q "reloaded " "$dir/mqd.log" && break; sleep 0.1; done
kill -TERM "$pid"
wait "$tracer" || { cat "$dir/mqd.log" >&2; exit 1; }
tracer=

fail=0
# The calls, from the lines of every thread, after exec (before it, strace
# is setting up). "<... x resumed>" lines repeat a call already counted.
calls=$(awk '!exec && /execve\(/ {exec = 1} exec' "$dir/trace" |
  sed -n 's/^[0-9]\+ \+\([a-z0-9_]\+\)(.*/\1/p' | sort -u)
[ "$(wc -l <<<"$calls")" -gt 20 ] || { echo "strace saw too few calls" >&2; exit 1; }
for call in $calls; do
  grep -qx "$call" "$dir/allowed" || { echo "mqd called $call, outside SystemCallFilter" >&2; fail=1; }
done
for family in $(grep -o 'socket(AF_[A-Z0-9]*' "$dir/trace" | cut -d'(' -f2 | sort -u); do
  [[ " $families " == *" $family "* ]] || { echo "mqd opened an $family socket, outside RestrictAddressFamilies" >&2; fail=1; }
done
exit $fail
