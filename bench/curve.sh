#!/usr/bin/env bash
# Throughput with CURVE encryption off and on, in one run (docs/security.md):
# one mqd (mqctl bench produce, 1 partition, acks=1; bench consume), then
# three mqd (acks=all, RF 3, 6 partitions, 4 producers), each first plain
# then encrypted. 100-byte messages.
# Usage: bench/curve.sh [MESSAGES]   (default 2,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
for curve in 0 1; do
  (
    export CURVE=$curve
    source bench/one_mqd.sh curve
    build/bin/mqctl topic create p1 -p 1 >/dev/null
    echo "produce, 1 partition, acks=1: $(build/bin/mqctl -o json bench produce --topic p1 --count "$N" --size 100 --acks 1)"
    echo "consume, 1 partition: $(build/bin/mqctl -o json bench consume --topic p1 --count "$N")"
  )
done
for curve in 0 1; do
  CURVE=$curve bash bench/cluster.sh "$N" 6 4 1
done
