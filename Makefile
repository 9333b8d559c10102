# Berth — see README.md. Every target works on a fresh Debian/Ubuntu machine
# (it installs what is missing, or says what to run) and on macOS with
# Docker Desktop or colima.

GO       ?= go
BIN      ?= berth
PKGS     ?= ./...
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/berth-app/berth/app/cli.Version=$(VERSION)
# The race detector needs cgo.
export CGO_ENABLED := 1

.PHONY: all build run test test-unit lint bench image test-image package screenshots clean deps helper

all: build

deps:
	@.ci/deps test

# The sandbox helper (docker/helper), static, for both architectures an
# engine may have; `build`, `run` and `package` embed them (build tag
# berthhelper). A plain `go build .` has none and uses docker exec.
HELPER_DIR  := docker/helperbin/bin
HELPER_TAGS := berthhelper
helper:
	@mkdir -p $(HELPER_DIR)
	for a in amd64 arm64; do CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags '-s -w' \
	  -o $(HELPER_DIR)/berth-helper-linux-$$a ./docker/helper/cmd/berth-helper || exit 1; done

build: helper
	$(GO) build -tags $(HELPER_TAGS) -ldflags '$(LDFLAGS)' -o $(BIN) .

## run: build Berth and start the desktop app (ARGS="doctor" runs a command instead)
ARGS ?=
run: helper
	@.ci/deps run
	$(GO) build -tags $(HELPER_TAGS) -ldflags '$(LDFLAGS)' -o $(BIN) .
	./$(BIN) $(ARGS)

## test: every test, race detector on, against a real Docker engine (a
## private one is started when none answers and we are root; otherwise it
## fails with the reason and the fix). Ends with the counts, the reasons of
## every skip, the fault table and "N passed, N failed, N skipped".
test: deps
	@GOFLAGS='$(TEST_GOFLAGS)' GO='$(GO)' PKGS='$(PKGS)' .ci/engine .ci/test

## test-unit: the tests that need no Docker engine (the others skip and say so).
test-unit:
	@.ci/deps unit
	@GOFLAGS='$(TEST_GOFLAGS)' GO='$(GO)' PKGS='$(PKGS)' .ci/test unit

# The tests' one build mode, for everything `make test` builds — the test
# binaries, the desktop binary, the tools in .ci and what tests build
# themselves (not the sandbox helper, built as `make build` ships it) — so
# that on an empty cache each package is compiled once: -race. (Leaving
# modernc.org/sqlite uninstrumented, as C code is, made SQLite 4.5× faster
# but gave false reports in encoding/json: its atomics then bypass the race
# detector, which loses the order they give.)
TEST_GOFLAGS := $(strip $(GOFLAGS) -race)

## lint: formatting, vet and staticcheck.
lint:
	@out=$$(gofmt -l . ); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 $(PKGS)

## bench: measured figures, printed as ratios against references measured in
## the same run (see README "Measured").
bench: deps
	@.ci/engine bash -c 'set -o pipefail; $(GO) run ./docker/dockertest/testimage && \
	  BERTH_BENCH=1 $(GO) test -count=1 -timeout 20m -run "^TestPerf" -v ./docker/ ./docker/helper/ ./app/egress/ ./app/assistant/ ./app/cli/ ./app/ui/ ./app/ui/desktop/ | grep -v -e "^=== RUN" -e "^--- PASS" -e "^PASS" && \
	  $(GO) test -count=1 -run "^$$" -bench . -benchtime 1x ./app/store/ ./app/ui/'

## screenshots: regenerate the README's screenshots from the real app
## (Xvfb, a fake model, a sample group with a mount).
screenshots: deps
	@.ci/engine sh -c '$(GO) run ./docker/dockertest/testimage && \
	  BERTH_SCREENSHOTS=$(CURDIR)/assets/screenshots $(GO) test -count=1 -run "^TestScreenshots$$" -v ./app/ui/desktop/'

## image: build the default sandbox image (needs network for debian:bookworm-slim).
image: build
	./$(BIN) image build

## test-image: build the registry-free busybox test image.
test-image:
	@.ci/engine $(GO) run ./docker/dockertest/testimage

## package: a desktop package with icon (Linux: a .tar.xz with the .desktop
## entry and icon; macOS: Berth.app). Metadata comes from FyneApp.toml.
PACKAGE_OS ?= $(shell go env GOOS)
package: deps helper
	$(GO) run fyne.io/tools/cmd/fyne@v1.7.4 package --release --target $(PACKAGE_OS) --tags $(HELPER_TAGS)

clean:
	rm -f $(BIN)
	rm -rf $(HELPER_DIR)
