#!/usr/bin/env bash
# The systemd units and the sysusers.d file as installed, checked by systemd's
# own tools: `systemd-analyze verify` (any warning fails the test: it reports
# unknown keys and bad values but exits 0 for them), the sandbox's exposure
# score from `systemd-analyze security`, and `systemd-sysusers --dry-run`.
# None of them needs systemd running as PID 1.
# Usage: systemd_units_test.sh BUILD_DIR PREFIX
set -euo pipefail
build=$1 prefix=$2
dest=$(mktemp -d "${TMPDIR:-/tmp}/mq-units-XXXXXX")
trap 'rm -rf "$dest"' EXIT
DESTDIR=$dest "${CMAKE:-cmake}" --install "$build" >/dev/null

# verify checks that ExecStart's binary exists: point the units at the copy
# installed under DESTDIR (--root would also need a whole systemd tree there).
units=$dest/units
mkdir "$units"
for unit in mqd.service mqd@.service; do
  sed "s|^ExecStart=$prefix/|ExecStart=$dest$prefix/|" \
    "$dest$prefix/lib/systemd/system/$unit" >"$units/$unit"
done

fail=0
# The template is verified through an instance, so that %i expands.
for unit in mqd.service mqd@node1.service; do
  if ! out=$(systemd-analyze verify --man=no "$units/$unit" 2>&1) || [ -n "$out" ]; then
    echo "systemd-analyze verify $unit:" >&2
    echo "$out" >&2
    fail=1
  fi
  # Exposure 0.0 (locked down) to 10.0 (unsafe); the units score 1.5.
  # --threshold is in tenths.
  if ! out=$(systemd-analyze security --offline=true --threshold=20 "$units/$unit" 2>&1); then
    echo "systemd-analyze security $unit: exposure above 2.0:" >&2
    echo "$out" | grep -E '✗|Overall' >&2
    fail=1
  fi
done

if ! out=$(systemd-sysusers --dry-run --root="$dest" "$dest$prefix/lib/sysusers.d/mq.conf" 2>&1) ||
   ! grep -q "Creating user 'mq'" <<<"$out"; then
  echo "systemd-sysusers --dry-run mq.conf:" >&2
  echo "$out" >&2
  fail=1
fi
exit $fail
