#!/usr/bin/env bash
# Store throughput next to dd on the same filesystem, in one run:
#   dd bs=1M (page cache) and dd bs=1M conv=fdatasync (to disk), 3 runs each,
#   then store-bench with 3 repetitions (median, min, max).
# Usage: bench/store.sh   (data in $MQ_BENCH_DIR, default $TMPDIR or /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${MQ_BENCH_DIR:-${TMPDIR:-/tmp}}
BIN=${BIN:-build/bin/store-bench}
[ -x "$BIN" ] || { echo "build first: make build" >&2; exit 1; }
echo "filesystem: $(df -h "$DIR" | awk 'NR==2{print $1" "$2" ("$6")"}'), $(nproc) cores"

dd_rate() {  # prints MB/s of one 1 GiB dd run with the given extra flags
  sync
  dd if=/dev/zero of="$DIR/mq-dd.bin" bs=1M count=1024 "$@" 2>&1 | awk '/copied/{print $(NF-1)" "$NF}'
  rm -f "$DIR/mq-dd.bin"
}
for run in 1 2 3; do echo "dd bs=1M count=1024 run $run: $(dd_rate)"; done
for run in 1 2 3; do echo "dd bs=1M count=1024 conv=fdatasync run $run: $(dd_rate conv=fdatasync)"; done

sync
MQ_BENCH_DIR=$DIR "$BIN" --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
  --benchmark_counters_tabular=true "$@"
