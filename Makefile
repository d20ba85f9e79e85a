# The two commands of the README: `make run` and `make test`.
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 20
# Debian's interpreter: the test clients (slixmpp, aioxmpp) are Debian packages.
PYTHON ?= /usr/bin/python3

.PHONY: all deps build web run test unit e2e web-test fuzz clean

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

run: build
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

# Browser-side tests: strophe.js over BOSH and WebSocket (Node), then
# converse.js in Debian's chromium driven by playwright-core.
web-test: build
	@scripts/install-deps.sh --test
	cd tests/web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	TERN_BIN=$(abspath $(BUILD)/tern) node tests/web/run.mjs

$(FUZZ_BUILD)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DTERN_TESTS=OFF -DTERN_FUZZ=ON

# Each fuzz target runs for a bounded time over its seed corpus.
fuzz: $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD) -j $(JOBS) fuzz_targets
	scripts/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
