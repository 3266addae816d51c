#!/usr/bin/env bash
# Throughput with security off and on, in one run (docs/security.md): one
# mqd (mqctl bench produce, 1 partition, acks=1; bench consume) plain, with
# CURVE, and with CURVE, authentication and authorization (a client that is
# not a super-user, allowed by ACLs); then three mqd (acks=all, RF 3, 6
# partitions, 4 producers), plain then encrypted. 100-byte messages.
# Usage: bench/curve.sh [MESSAGES]   (default 2,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000000}
for mode in plain curve auth; do
  (
    export CURVE=0 AUTH=0
    [ $mode = curve ] && CURVE=1
    [ $mode = auth ] && AUTH=1
    source bench/one_mqd.sh curve
    # shellcheck disable=SC2086  # the key flags are two words
    {
      build/bin/mqctl $ADMIN_KEY topic create p1 -p 1 >/dev/null
      if [ $mode = auth ]; then
        # A few bindings besides the ones that match, as a real cluster has.
        for i in $(seq 20); do
          build/bin/mqctl $ADMIN_KEY acl add --allow "app$i" --operation all --topic "app$i." --prefixed >/dev/null
        done
        build/bin/mqctl $ADMIN_KEY acl add --allow client --operation write --operation read --topic p1 >/dev/null
        build/bin/mqctl $ADMIN_KEY acl add --allow client --operation read --group '*' >/dev/null
      fi
      echo "$mode: produce, 1 partition, acks=1: $(build/bin/mqctl $CLIENT_KEY -o json bench produce --topic p1 --count "$N" --size 100 --acks 1)"
      echo "$mode: consume, 1 partition: $(build/bin/mqctl $CLIENT_KEY -o json bench consume --topic p1 --count "$N")"
    }
  )
done
for curve in 0 1; do
  CURVE=$curve bash bench/cluster.sh "$N" 6 4 1
done
