#!/usr/bin/env bash
# Builds the fuzzers (wire decoders, filter parsers, authentication) with clang into build-fuzz/
# and runs each for N seconds (default 30), starting from the seed corpus in
# tests/fuzz/corpus/. New inputs go to build-fuzz/corpus/, crashes to build-fuzz/crashes/.
#   tests/fuzz/run.sh [seconds]          fuzz every target
#   tests/fuzz/run.sh --write-corpus     regenerate the decoders' seeds in tests/fuzz/corpus/
#                                        (the filter_parser and zap seeds are checked-in files)
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-1}
TARGETS=(request_decoder response_decoder filter_parser zap)

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_UNITY_BUILD=ON \
  -DCMAKE_CXX_COMPILER=clang++ -DMQ_FUZZ=ON >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target fuzz_corpus_writer \
  "${TARGETS[@]/#/fuzz_}"

if [[ "${1:-}" == "--write-corpus" ]]; then
  "$BUILD_DIR/tests/bin/fuzz_corpus_writer" tests/fuzz/corpus
  exit 0
fi

SECONDS_PER_TARGET=${1:-30}
mkdir -p "$BUILD_DIR/crashes"
status=0
for target in "${TARGETS[@]}"; do
  mkdir -p "$BUILD_DIR/corpus/$target"
  echo "== fuzz_$target for ${SECONDS_PER_TARGET}s"
  if ! "$BUILD_DIR/tests/bin/fuzz_$target" "$BUILD_DIR/corpus/$target" "tests/fuzz/corpus/$target" \
      -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
      -artifact_prefix="$BUILD_DIR/crashes/$target-" 2>"$BUILD_DIR/fuzz_$target.log"; then
    echo "fuzz_$target FAILED; see $BUILD_DIR/fuzz_$target.log and $BUILD_DIR/crashes/"
    tail -40 "$BUILD_DIR/fuzz_$target.log"
    status=1
  else
    grep -E "^stat::(number_of_executed_units|peak_rss_mb)|Done [0-9]+ runs" \
      "$BUILD_DIR/fuzz_$target.log" || true
  fi
done
exit $status
