# The two commands: `make run` and `make test`. Everything else is a step of them.
BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
TSAN_DIR  ?= build-tsan
JOBS      ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test run install asan asan-test tsan tsan-test bench failover-bench cluster-soak faults format clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: | deps
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: deps $(BUILD_DIR)/build.ninja

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600

# A single-node broker on examples/configs/single.toml, data under ./data.
# Clients connect to tcp://127.0.0.1:9092; metrics at http://127.0.0.1:9644/metrics.
run: build
	$(BUILD_DIR)/bin/mqd --config examples/configs/single.toml

# Installs mqd, the systemd units, the sysusers.d file, docs and example configs
# under the prefix (/usr/local; CMAKE_FLAGS=-DCMAKE_INSTALL_PREFIX=/usr on a
# fresh build dir to change it). Packagers: make install DESTDIR=/tmp/pkg.
install: build
	DESTDIR=$(DESTDIR) cmake --install $(BUILD_DIR)

# The sanitizer builds compile each target's sources in batches
# (CMAKE_UNITY_BUILD): half the build time, so CI can run both.
$(ASAN_DIR)/build.ninja: | deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_UNITY_BUILD=ON -DMQ_SANITIZE=ON $(CMAKE_FLAGS)

asan: deps $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) -j $(JOBS)

asan-test: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) --timeout 900

# The unit tests under ThreadSanitizer (tests/tsan.supp lists what is
# suppressed, and why).
$(TSAN_DIR)/build.ninja: | deps
	cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE= -DCMAKE_UNITY_BUILD=ON -DMQ_TSAN=ON $(CMAKE_FLAGS)

tsan: deps $(TSAN_DIR)/build.ninja
	cmake --build $(TSAN_DIR) -j $(JOBS)

tsan-test: tsan
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan.supp" \
	  ctest --test-dir $(TSAN_DIR) --output-on-failure -j $(JOBS) --timeout 900

bench: build
	bench/store.sh
	bench/broker.sh

# A default producer at 100 k msg/s against three mqd whose partition leader
# is SIGKILLed 20 times, then stopped with SIGTERM 20 times: stalls per
# failure, and failed/lost/duplicated messages (all must be 0).
failover-bench: build
	$(BUILD_DIR)/bin/failover-bench --kills 20 --terms 20 --rate 100000

# The cluster failover tests (three mqd processes; leader and controller
# SIGKILLed, leader paused, nodes restarted) many times over: ITERATIONS each.
ITERATIONS ?= 20
cluster-soak: build
	MQ_CLUSTER_TEST_ITERATIONS=$(ITERATIONS) $(BUILD_DIR)/tests/bin/integration_cluster_test

# The fault campaign (docs/faults.md): RUNS runs of DURATION per fault type,
# each in network namespaces of its own; the report goes to
# bench/faults/report.md. Needs root. `make test` runs one short run.
faults: build
	tests/faults/campaign.sh $(BUILD_DIR)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR)
