#!/bin/sh
# Makes the keys and files the secure example cluster runs with, under
# ./data/secure/keys of the directory it runs in (the repository root, as
# for the configs' data_dir), and never over existing ones:
#   cluster.secret / cluster.public   the cluster's CURVE key pair (every broker)
#   brokerN.secret / brokerN.public   each broker's own key pair (broker:N)
#   admin.secret / admin.public       a client's key pair (the principal "admin")
#   principals                        who may connect: the three brokers and admin
#   http.token                        the bearer token HTTP clients not on loopback send
# Usage: sh examples/configs/secure/setup.sh   (MQCTL names mqctl, default build/bin/mqctl)
set -eu
mqctl=${MQCTL:-build/bin/mqctl}
keys=./data/secure/keys
if [ -e "$keys" ]; then
  echo "$keys exists already: remove ./data/secure to start over" >&2
  exit 1
fi
mkdir -p ./data/secure
# Made in a folder of its own and moved into place at the end: a run that
# fails leaves nothing behind that stops the next one.
work=$(mktemp -d ./data/secure/keys.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
key() { grep -v '^#' "$1"; }

"$mqctl" keygen "$work/cluster" >/dev/null
"$mqctl" keygen "$work/admin" >/dev/null
{
  echo "# Who may connect to the secure example cluster (docs/security.md)."
  for n in 1 2 3; do
    "$mqctl" keygen "$work/broker$n" >/dev/null
    echo "broker:$n $(key "$work/broker$n.public")"
  done
  echo "admin $(key "$work/admin.public")"
} >"$work/principals"
chmod 600 "$work/principals"
(umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$work/http.token" && echo >>"$work/http.token")
mv "$work" "$keys"
trap - EXIT

echo "made $keys. The cluster's public key (clients give it as --server-key):"
key "$keys/cluster.public"
