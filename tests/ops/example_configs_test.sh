#!/usr/bin/env bash
# Every config under examples/configs passes `mqd --check-config`, and
# production.toml is exactly what `mqd --print-example-config` renders from
# it: every setting of the table, in order, with its current description and
# default. Usage: example_configs_test.sh MQD SOURCE_DIR
set -euo pipefail
mqd=$1 source=$2
fail=0
count=0
while IFS= read -r -d '' config; do
  count=$((count + 1))
  "$mqd" --check-config "$config" >/dev/null || fail=1
done < <(find "$source/examples/configs" -name '*.toml' -print0)
[ "$count" -ge 2 ] || { echo "found only $count example configs" >&2; fail=1; }

production=$source/examples/configs/production.toml
if ! diff -u "$production" <("$mqd" --print-example-config "$production") >&2; then
  echo "examples/configs/production.toml drifted from the settings table; regenerate it:" >&2
  echo "  mqd --print-example-config $production > /tmp/p.toml && mv /tmp/p.toml $production" >&2
  fail=1
fi
exit $fail
