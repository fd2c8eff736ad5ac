# stembox — the offline classroom server.
#
#   make run     build, then serve the sample packs on http://localhost:8080/
#   make test    every test (the race detector on)

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BIN      := stembox
DATA_DIR ?= stembox-data
KATEX_VERSION ?= 0.19.1

.PHONY: all build run test test-short lint fuzz bench release vendor-katex clean cross-tools deb durability footprint

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/stembox

# The box builds the sample packs in content-packs/ at start, signs them with
# a development key it keeps in $(DATA_DIR) (trusted by that box only), and
# installs them.
run: build
	./$(BIN) serve --data-dir $(DATA_DIR) --dev-packs content-packs

test:
	@[ "$$(id -u)" = 0 ] || echo "note: the tests over network namespaces (cmd/stembox TestLAN) need root; they are skipped"
	$(GO) test -race -count=1 -timeout 25m ./...

test-short:
	$(GO) test -short -count=1 ./...

# The tests over a real network: boxes in network namespaces find each
# other, copy packs and refuse tampered ones (docs/discovery.md). make test
# runs them too when it can (as root); this runs only them.
.PHONY: test-lan lan-tools
test-lan: lan-tools
	$(GO) test -race -count=1 -run 'TestLAN' -v ./cmd/stembox/

# Debian's packages those tests use: ip, and avahi (with D-Bus) as an
# independent mDNS implementation; the tests start their own avahi inside a
# namespace. Installed only when missing, as root, with policy-rc.d keeping
# the packages from starting their daemons on the machine's own network.
LAN_PKGS := iproute2 avahi-daemon avahi-utils dbus
lan-tools:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		! (command -v ip && command -v avahi-daemon && command -v avahi-browse && command -v dbus-daemon) >/dev/null 2>&1; then \
		rc=/usr/sbin/policy-rc.d; made=; \
		if [ ! -e $$rc ]; then printf '#!/bin/sh\nexit 101\n' > $$rc && chmod +x $$rc && made=1; fi; \
		st=0; apt-get install -y -qq $(LAN_PKGS) >/dev/null 2>&1 || \
			{ apt-get update -qq && apt-get install -y -qq $(LAN_PKGS) >/dev/null; } || st=$$?; \
		if [ -n "$$made" ]; then rm -f $$rc; fi; exit $$st; fi

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Run each fuzz target for a while (FUZZTIME=30s by default).
FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzInspectArchive -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./internal/content/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./internal/gift/
	$(GO) test -run '^$$' -fuzz FuzzInline -fuzztime $(FUZZTIME) ./internal/markup/
	$(GO) test -run '^$$' -fuzz FuzzUnmarshal -fuzztime $(FUZZTIME) ./internal/upstream/wire/
	$(GO) test -run '^$$' -fuzz FuzzReadBundle -fuzztime $(FUZZTIME) ./internal/upstream/wire/
	$(GO) test -run '^$$' -fuzz FuzzClean -fuzztime $(FUZZTIME) -fuzzminimizetime 0 ./internal/picture/

# Benchmarks: Go micro-benchmarks, then the load program, which serves the
# same lesson page and 1 MB media file from stembox, a bare net/http handler
# and nginx (installed from Debian when missing and we are root), and reports
# requests per second and ratios, cold start and idle memory.
bench: build
	# Includes BenchmarkPublishDraft: the teacher studio publishing a 30-item
	# set with 5 pictures of ~200 KB (s/publish; cold-s with KaTeX's start;
	# the issue's target is 2 s).
	$(GO) test -run '^$$' -bench . -benchmem ./internal/server/ ./internal/learn/ ./internal/markup/
	@if ! command -v nginx >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq nginx wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq nginx wrk >/dev/null); fi
	$(GO) run ./cmd/stembox-bench --stembox ./$(BIN)
	# A class of 40, then 200, signing in with PINs in the same second under
	# 1 GB (cgroup v2 when writable): p50/p99, peak memory, wrong PINs checked.
	$(GO) run ./cmd/stembox-signin-storm --stembox ./$(BIN)
	# The studio's formula preview: 20 teachers typing paragraphs with
	# formulas at once, a preview every 3 keystrokes: p50/p99 (target p99
	# ≤ 200 ms on 2 cores; reported, not asserted).
	$(GO) run ./cmd/stembox-preview-bench --stembox ./$(BIN)
	# Answers per second with synchronous=FULL (group commit) and OFF, in the
	# store alone and over HTTP; their ratio is the cost of durability.
	$(GO) test -run '^$$' -bench RecordAnswer -benchtime 3s ./internal/store/
	$(GO) run ./cmd/stembox-durability --bench
	# The hub's ingest in events/s (SQLite; PostgreSQL too when
	# STEMBOX_TEST_POSTGRES names a database) and bytes per event on the wire.
	$(GO) test -run '^$$' -bench 'Ingest|Marshal' -benchtime 50x ./internal/hub/ ./internal/upstream/wire/
	# A teacher's picture: a 12 MP phone photo, and the worst case of the
	# default limits (40 MP), in ms and MB allocated per picture.
	$(GO) test -run '^$$' -bench Clean -benchtime 5x ./internal/picture/
	# The hub on PostgreSQL as a country runs it (docs/hub.md): 300 boxes
	# pushing at once over HTTP in their batch size (events/s, p50/p99 batch
	# latency), then 15 million events in all and the report pages' time.
	# Needs STEMBOX_BENCH_POSTGRES (or STEMBOX_TEST_POSTGRES); says so and
	# skips without. About half an hour on a 2-core machine.
	$(GO) run ./cmd/stembox-hubload --stembox ./$(BIN)

# release builds stembox with cgo (SQLite) for the boxes it runs on:
# linux/amd64 (small PCs), linux/arm64 (Raspberry Pi 3/4/5, 64-bit OS) and
# linux/armv7 (32-bit Raspberry Pi OS), stamped with VERSION; then a .deb for
# each (cmd/stembox-deb), and SHA256SUMS. Debian's cross compilers are
# installed when missing and we are root. The first cross build compiles
# SQLite for each architecture (minutes); the Go build cache keeps it.
CROSS_PKGS := gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user
release: cross-tools
	mkdir -p dist
	rm -f dist/stembox-linux-* dist/stembox_*.deb dist/SHA256SUMS
	CGO_ENABLED=1 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/stembox-linux-amd64 ./cmd/stembox
	CGO_ENABLED=1 GOOS=linux GOARCH=arm64 CC=aarch64-linux-gnu-gcc $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/stembox-linux-arm64 ./cmd/stembox
	CGO_ENABLED=1 GOOS=linux GOARCH=arm GOARM=7 CC=arm-linux-gnueabihf-gcc $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/stembox-linux-armv7 ./cmd/stembox
	$(MAKE) deb
	cd dist && sha256sum stembox-linux-* stembox_*.deb > SHA256SUMS

cross-tools:
	@for t in aarch64-linux-gnu-gcc arm-linux-gnueabihf-gcc qemu-aarch64; do \
		command -v $$t >/dev/null && continue; \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing $(CROSS_PKGS)"; \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CROSS_PKGS) >/dev/null || \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CROSS_PKGS) >/dev/null); \
		else echo "release: install $(CROSS_PKGS) first (apt-get install, as root)" >&2; exit 1; fi; \
		break; done

# deb packages the binaries in dist/ (make release builds them).
deb:
	$(GO) run ./cmd/stembox-deb --version $(VERSION) --dist dist

# durability kills a real stembox with SIGKILL while clients send answers,
# KILLS times, and checks after each kill that nothing acknowledged is lost.
KILLS ?= 20
durability: build
	$(GO) run ./cmd/stembox-durability --stembox ./$(BIN) --kills $(KILLS)

# footprint measures binary sizes (dist/ too, after make release), cold
# start, idle memory and memory with 200 students connected.
footprint: build
	$(GO) run ./cmd/stembox-footprint --stembox ./$(BIN)

clean:
	rm -rf $(BIN) dist

# vendor-katex refreshes KaTeX from the npm registry: the script that pack
# build runs in goja (internal/katex) and the stylesheet and woff2 fonts the
# box serves (web/static/vendor/katex). The stylesheet is rewritten so each
# @font-face lists only its woff2 file.
vendor-katex:
	@set -eu; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent katex@$(KATEX_VERSION) >/dev/null); \
	tar -xzf "$$tmp/katex-$(KATEX_VERSION).tgz" -C "$$tmp"; \
	pkg="$$tmp/package"; \
	test "$$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$$pkg/package.json")" = "$(KATEX_VERSION)"; \
	mkdir -p internal/katex; \
	cp "$$pkg/dist/katex.min.js" "$$pkg/LICENSE" internal/katex/; \
	printf '%s\n' "$(KATEX_VERSION)" > internal/katex/VERSION; \
	web=web/static/vendor/katex; \
	rm -rf "$$web"; mkdir -p "$$web/fonts"; \
	cp "$$pkg"/dist/fonts/*.woff2 "$$web/fonts/"; \
	cp "$$pkg/LICENSE" "$$web/"; \
	printf '%s\n' "$(KATEX_VERSION)" > "$$web/VERSION"; \
	sed -E -e 's/,url\([^)]*\.woff\) format\("woff"\)//g' \
	       -e 's/,url\([^)]*\.ttf\) format\("truetype"\)//g' \
	       "$$pkg/dist/katex.min.css" > "$$web/katex.min.css"; \
	if grep -Eq '\.(woff|ttf)\)' "$$web/katex.min.css"; then \
		echo "vendor-katex: non-woff2 font left in katex.min.css" >&2; exit 1; fi; \
	for f in $$(grep -Eo 'url\([^)]*\)' "$$web/katex.min.css" | sed -E 's/^url\(["'\'']?//; s/["'\'']?\)$$//' | sort -u); do \
		test -f "$$web/$$f" || { echo "vendor-katex: $$web/$$f missing" >&2; exit 1; }; done; \
	for f in "$$web"/fonts/*.woff2; do \
		grep -q "fonts/$${f##*/}" "$$web/katex.min.css" || { echo "vendor-katex: $$f unused" >&2; exit 1; }; done; \
	echo "vendor-katex: KaTeX $(KATEX_VERSION)"

# Live sessions. loadtest: N simulated students (5000 by default) against a
# real box and a minimal gorilla/websocket broadcast server, side by side on
# loopback; reports fan-out latency (and the ratio to the reference),
# answers acknowledged per second and lost, and memory per student. Not run
# by `make test`. LOADTEST_FLAGS="--students 500" for a quick run.
# live-e2e: the end-to-end test of a live session in headless Chromium
# (make test runs it too, when Chromium is installed); screenshots of the
# projector go to $$STEMBOX_ARTIFACTS/live when that is set.
.PHONY: loadtest live-e2e browser-tools
LOADTEST_FLAGS ?=
loadtest:
	$(GO) run ./cmd/stembox-loadtest $(LOADTEST_FLAGS)

live-e2e: browser-tools
	$(GO) test -count=1 -run TestBrowserLiveSession -v ./internal/box/

# tour: a whole lesson on a new box in headless Chromium, screenshots of
# every page at phone, laptop and projector sizes in tg, ru and en in
# $(TOUR_OUT), and an audit that fails on what a user would see broken
# (README, "The tour"). A few minutes; not part of make test.
.PHONY: tour
TOUR_OUT ?= tour-out
tour: browser-tools
	$(GO) run ./cmd/stembox-tour -out $(TOUR_OUT)

# tour-docs is the tour that also refreshes the README's screenshots in
# docs/screenshots (run it after a change to the pages they show).
.PHONY: tour-docs
tour-docs: browser-tools
	$(GO) run ./cmd/stembox-tour -out $(TOUR_OUT) -docs docs/screenshots

# browser-tools installs Debian's Chromium for the browser tests, when it is
# missing and we are root.
browser-tools:
	@if ! command -v chromium >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null); fi
