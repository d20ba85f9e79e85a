# The two commands of the README: `make run` and `make test`.
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
# Debian's interpreter: the test clients (slixmpp, aioxmpp) are Debian packages.
PYTHON ?= /usr/bin/python3

.PHONY: all deps build web run test unit e2e e2e-asan asan-build web-test fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja web
	ninja -C $(BUILD) -j $(JOBS)

# The web chat page: converse.js at the version pinned in web/package-lock.json
# (npm ci; works offline from npm's cache once fetched), served from
# web/public with the dist files copied beside the page.
WEB_DIST := web/public/dist/converse.min.js
web: $(WEB_DIST)
$(WEB_DIST): web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	rm -rf web/public/dist
	mkdir -p web/public/dist
	cd web/node_modules/converse.js/dist && find . -type f ! -name '*.map' -exec cp --parents {} ../../../public/dist/ \;
	touch $(WEB_DIST)

# Only the server, what it links and the web page: the unit tests, benchmarks
# and load generator are for `make test` (459 s to the ready line from a
# fresh clone when `run` built everything).
run: deps $(BUILD)/build.ninja web
	ninja -C $(BUILD) -j $(JOBS) tern
	$(BUILD)/tern serve $(if $(CONFIG),--config $(CONFIG))

# Every step runs even when an earlier one failed, so a unit failure does not
# hide the e2e results; the last line sums them up, with each step's time
# (CI has 90 minutes), and the exit status is non-zero if any step failed.
TEST_STEPS ?= unit e2e web-test e2e-asan fuzz
test:
	@scripts/install-deps.sh --test
	@status=0; summary=""; \
	for step in $(TEST_STEPS); do \
	  echo "=== make test: $$step"; start=$$(date +%s); \
	  if $(MAKE) --no-print-directory $$step; then result=ok; else result=FAILED; status=1; fi; \
	  summary="$$summary, $$step $$result ($$(( $$(date +%s) - start )) s)"; \
	done; \
	echo "make test: $${summary#, }"; exit $$status

unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# -rs lists every skipped test with its reason; under CI=true a skip fails
# the run (tests/e2e/conftest.py), so a missing peer server cannot pass quietly.
PYTEST_FLAGS ?= -q -rs
e2e: build
	TERN_BIN=$(abspath $(BUILD)/tern) $(PYTHON) -m pytest $(PYTEST_FLAGS) tests/e2e

# The same e2e suite against a tern built with AddressSanitizer and UBSan.
# Any report fails: UBSan aborts on the first (-fno-sanitize-recover), ASan
# halts, the fixtures check that tern exited 0 and that its stderr holds no
# sanitizer report. Leak checking is off: a server stopped by SIGTERM still
# holds its pools and caches by design. -O1 -g1 (line tables only) is what
# the sanitizers need for fast code and useful stack traces, and compiles in
# about two thirds of the time of -O2 -g: CI builds this tree from nothing.
ASAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTERN_TESTS=OFF \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
	  -DCMAKE_CXX_FLAGS="$(ASAN_FLAGS)" -DCMAKE_C_FLAGS="$(ASAN_FLAGS)" \
	  -DCMAKE_EXE_LINKER_FLAGS="$(ASAN_FLAGS)"

# Only the server: the e2e tests that drive load take the ordinary build's
# tern-bench (the generator is a tool, not what is under test).
asan-build: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD) -j $(JOBS) tern

e2e-asan: build asan-build
	TERN_BIN=$(abspath $(ASAN_BUILD)/tern) TERN_BENCH_BIN=$(abspath $(BUILD)/tern-bench) \
	ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=0:exitcode=86 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87 \
	  $(PYTHON) -m pytest $(PYTEST_FLAGS) tests/e2e

# Browser-side tests: strophe.js over BOSH and WebSocket (Node), then
# converse.js in Debian's chromium driven by playwright-core.
web-test: build
	@scripts/install-deps.sh --test
	cd tests/web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	TERN_BIN=$(abspath $(BUILD)/tern) node tests/web/run.mjs
	TERN_BIN=$(abspath $(BUILD)/tern) node tests/web/muc.mjs

$(FUZZ_BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTERN_TESTS=OFF -DTERN_FUZZ=ON

# Each fuzz target runs for a bounded time over its seed corpus.
fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) -j $(JOBS) fuzz_targets
	scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) $(ASAN_BUILD)
