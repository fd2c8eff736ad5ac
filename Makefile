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
