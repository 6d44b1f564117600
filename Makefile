# Hive - the two commands in the README's Quick start are `make demo` and
# `make test`. Everything else here is for contributors.
#
#   make demo       install missing packages, build Release, run the demo
#                   (SECURE=1: the same game over enet+tls; WEB=1: and in a
#                   browser tab, at the URL it prints; CLUSTER=1: a lobby and
#                   two shards on a local NATS)
#   make test       install missing packages, build with ASan+UBSan, run every test
#   make tsan       the threading tests under ThreadSanitizer
#   make bench      build Release and run every benchmark
#   make soak       build Release, run hive-soak on every transport
#                   (SOAK_SECONDS each, default 45: about 5 minutes in all)
#   make fuzz       build the libFuzzer targets (clang) and run each FUZZ_SECONDS
#   make install    PREFIX=/usr/local: headers, libhive.a + libhive-engine.a +
#                   libhive-sdl.a and hive.pc, hive-engine.pc, hive-sdl.pc
#   make certs      throwaway CA + server/client certificates in certs/
#   make clean

PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 45
PREMAKE ?= premake4
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps web-deps gen build debug release sanitize tsan-build demo test tsan bench soak fuzz install certs clean

all: release

deps:
	@sh tools/deps.sh

# The JavaScript client's packages (web/package-lock.json), for the Node
# tests inside make test.
web-deps: deps
	@if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then \
		cd web && npm ci --no-audit --no-fund --loglevel=error && touch node_modules; fi

gen: deps
	@$(PREMAKE) --file=premake5.lua gmake >/dev/null

build/Makefile: gen

debug: gen
	@$(MAKE) --no-print-directory -C build -j$(JOBS) config=debug
release: gen
	@$(MAKE) --no-print-directory -C build -j$(JOBS) config=release
sanitize: gen
	@$(MAKE) --no-print-directory -C build -j$(JOBS) config=sanitize
tsan-build: gen
	@$(MAKE) --no-print-directory -C build -j$(JOBS) config=tsan

demo: release $(if $(WEB),web-deps)
	@HIVE_DEMO_SECURE=$(SECURE) HIVE_DEMO_WEB=$(WEB) HIVE_DEMO_CLUSTER=$(CLUSTER) sh tools/demo.sh bin/Release

test: sanitize web-deps
	@sh tools/run-tests.sh bin/Sanitize

tsan: tsan-build
	@TSAN_OPTIONS="halt_on_error=1" sh tools/run-tests.sh bin/TSan "threads/*"

bench: release web-deps
	@for b in bin/Release/bench-*; do echo "=== $$b"; $$b || exit 1; done

soak: release
	@sh tools/soak.sh bin/Release $(SOAK_SECONDS)

fuzz: deps
	@sh tools/fuzz.sh $(FUZZ_SECONDS)

install: release
	@sh tools/install.sh "$(PREFIX)" bin/Release

certs: deps
	@sh tools/certs.sh certs

clean:
	rm -rf build obj bin
