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

.PHONY: all build run test test-short lint fuzz bench release vendor-katex clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/stembox

# The box builds the sample packs in content-packs/ at start, signs them with
# a development key it keeps in $(DATA_DIR) (trusted by that box only), and
# installs them.
run: build
	./$(BIN) serve --data-dir $(DATA_DIR) --dev-packs content-packs

test:
	$(GO) test -race -count=1 ./...

test-short:
	$(GO) test -short -count=1 ./...

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

# Benchmarks: Go micro-benchmarks, then the load program, which serves the
# same lesson page and 1 MB media file from stembox, a bare net/http handler
# and nginx (installed from Debian when missing and we are root), and reports
# requests per second and ratios, cold start and idle memory.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./internal/server/ ./internal/learn/ ./internal/markup/
	@if ! command -v nginx >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get install -y -qq nginx wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq nginx wrk >/dev/null); fi
	$(GO) run ./cmd/stembox-bench --stembox ./$(BIN)

release:
	mkdir -p dist
	CGO_ENABLED=1 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o dist/stembox-linux-amd64 ./cmd/stembox
	cd dist && sha256sum stembox-* > SHA256SUMS

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
