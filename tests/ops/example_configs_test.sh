#!/usr/bin/env bash
# Every config under examples/configs passes `mqd --check-config`;
# production.toml is exactly what `mqd --print-example-config` renders from
# it: every setting of the table, in order, with its current description and
# default; the three cluster nodes are there, and the check of a cluster
# config is a real one (a node missing from cluster.voters is refused).
# Usage: example_configs_test.sh MQD SOURCE_DIR
set -euo pipefail
mqd=$1 source=$2
fail=0
count=0
while IFS= read -r -d '' config; do
  count=$((count + 1))
  "$mqd" --check-config "$config" >/dev/null || fail=1
done < <(find "$source/examples/configs" -name '*.toml' -print0)
[ "$count" -ge 2 ] || { echo "found only $count example configs" >&2; fail=1; }

cluster=$source/examples/configs/cluster
for n in 1 2 3; do
  [ -f "$cluster/node$n.toml" ] || { echo "missing $cluster/node$n.toml" >&2; fail=1; }
done
# node 4 is in neither cluster.voters nor cluster.observers: refused, saying so.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed 's/^node_id = 1$/node_id = 4/' "$cluster/node1.toml" >"$tmp/node4.toml"
if "$mqd" --check-config "$tmp/node4.toml" >/dev/null 2>"$tmp/err"; then
  echo "mqd --check-config accepted a node that is not in cluster.voters" >&2
  fail=1
elif ! grep -q "node_id 4 is in neither cluster.voters nor cluster.observers" "$tmp/err"; then
  echo "unexpected error for a node missing from cluster.voters:" >&2
  cat "$tmp/err" >&2
  fail=1
fi

production=$source/examples/configs/production.toml
if ! diff -u "$production" <("$mqd" --print-example-config "$production") >&2; then
  echo "examples/configs/production.toml drifted from the settings table; regenerate it:" >&2
  echo "  mqd --print-example-config $production > /tmp/p.toml && mv /tmp/p.toml $production" >&2
  fail=1
fi
exit $fail
