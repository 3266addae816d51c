#!/usr/bin/env bash
# Installs the Debian packages mq builds and tests with, only those missing.
# Non-interactive: safe under CI (no stdin) and as root; uses sudo otherwise.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev lld
  libzmq3-dev libsodium-dev cppzmq-dev libcli11-dev libcpp-httplib-dev libssl-dev prometheus-cpp-dev
  libtomlplusplus-dev nlohmann-json3-dev libspdlog-dev libzstd-dev liblz4-dev
  libsystemd-dev libgtest-dev libgmock-dev libbenchmark-dev
  systemd prometheus strace openssl  # tests/ops: systemd-analyze, promtool, a Prometheus server, the syscall trace; tests: a TLS certificate
  iproute2 iptables libfaketime  # tests/faults: network namespaces, veth pairs, a bridge, cut links inside them; wall-clock jumps
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
