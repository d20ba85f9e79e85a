# The two commands of the README: `make run` and `make test`.
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
# Debian's interpreter: the test clients (slixmpp, aioxmpp) are Debian packages.
PYTHON ?= /usr/bin/python3

.PHONY: all deps build run test unit e2e fuzz clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS)

# Only the server and what it links: the unit tests, benchmarks and load
# generator are for `make test` (459 s to the ready line from a fresh clone
# when `run` built everything).
run: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) -j $(JOBS) tern
	$(BUILD)/tern serve $(if $(CONFIG),--config $(CONFIG))

test: 
	@scripts/install-deps.sh --test
	$(MAKE) build
	$(MAKE) unit
	$(MAKE) e2e
	$(MAKE) fuzz

unit:
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

e2e:
	TERN_BIN=$(abspath $(BUILD)/tern) $(PYTHON) -m pytest -q tests/e2e

$(FUZZ_BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTERN_TESTS=OFF -DTERN_FUZZ=ON

# Each fuzz target runs for a bounded time over its seed corpus.
fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) -j $(JOBS) fuzz_targets
	scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
