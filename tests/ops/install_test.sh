#!/usr/bin/env bash
# `make install` into a temporary DESTDIR: every file a packager needs lands
# under the prefix, the installed mqd runs and accepts the installed example
# configs, and the units name the installed binary.
# Usage: install_test.sh BUILD_DIR PREFIX
set -euo pipefail
build=$1 prefix=$2
dest=$(mktemp -d "${TMPDIR:-/tmp}/mq-install-XXXXXX")
trap 'rm -rf "$dest"' EXIT

DESTDIR=$dest "${CMAKE:-cmake}" --install "$build" >/dev/null
root=$dest$prefix
fail=0
for f in bin/mqd bin/mqctl \
         lib/systemd/system/mqd.service lib/systemd/system/mqd@.service lib/sysusers.d/mq.conf \
         share/doc/mq/README.md share/doc/mq/quickstart.md share/doc/mq/operations.md \
         share/doc/mq/runbooks.md share/doc/mq/architecture.md share/doc/mq/configuration.md \
         share/doc/mq/metrics.md share/doc/mq/grafana/mq.json \
         share/doc/mq/prometheus/alerts.yml share/doc/mq/prometheus/recording.yml \
         share/doc/mq/examples/single.toml share/doc/mq/examples/production.toml; do
  [ -f "$root/$f" ] || { echo "missing after install: $prefix/$f" >&2; fail=1; }
done
[ -x "$root/bin/mqd" ] || { echo "$prefix/bin/mqd is not executable" >&2; fail=1; }
# Nothing may land outside the prefix (the units' /etc/mq and /var/lib/mq are
# made by systemd at run time, not by make install).
outside=$(cd "$dest" && find . -type f ! -path ".$prefix/*")
[ -z "$outside" ] || { echo "installed outside $prefix: $outside" >&2; fail=1; }

"$root/bin/mqd" --version | grep -q '^mqd ' || { echo "installed mqd --version failed" >&2; fail=1; }
"$root/bin/mqctl" version >/dev/null || { echo "installed mqctl version failed" >&2; fail=1; }
for config in "$root"/share/doc/mq/examples/*.toml "$root"/share/doc/mq/examples/*/*.toml; do
  [ -e "$config" ] || continue
  "$root/bin/mqd" --check-config "$config" >/dev/null || fail=1
done
for unit in mqd.service mqd@.service; do
  grep -qx "ExecStart=$prefix/bin/mqd --config .*" "$root/lib/systemd/system/$unit" ||
    { echo "$unit does not start $prefix/bin/mqd" >&2; fail=1; }
done
exit $fail
