# stella — see README.md. Two commands set everything up on a fresh machine:
#   make demo   build, start the development Authority, walk through a session
#   make test   everything CI runs
SHELL := bash
GO ?= go
BIN := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# -s -w: no symbol table and no DWARF, as release builds of gh and kubectl
# ship. A panic's trace still names every function and line (that is the
# pclntab, which stays); what goes is what only a debugger reads, 9 MB of
# the 30 MB binary. Nothing maps those bytes, yet `stella version` often
# starts faster without them: by 0.07 to 0.19 times the baseline in three
# paired runs of make bench, by nothing (+-0.02) in two more; 9 MB of
# unread bytes appended to a stripped build slowed it by 0.11-0.17x. `go build
# ./cmd/stella` keeps both, for a debugger.
STRIP := -s -w
LDFLAGS := $(STRIP) -X github.com/stellaops/stella/internal/cli.version=$(VERSION) -X github.com/stellaops/stella/internal/cli.commit=$(shell git rev-parse --short HEAD 2>/dev/null)

.PHONY: build test unit scripts race audit kong lint fmt vet staticcheck bench demo scenario fuzz clean interop-deps interop

# stella is built static (no cgo): a dynamically linked binary spends
# about 0.8 ms of every start in the dynamic loader, a quarter of `stella
# version` (make bench). stella-jq, the filter behind `stella api --jq`,
# sits next to it: stella starts it only for --jq, so gojq's package
# initialisation is not paid on every start.
build:
	CGO_ENABLED=0 $(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)/stella ./cmd/stella
	CGO_ENABLED=0 $(GO) build -ldflags "$(STRIP)" -o $(BIN)/stella-jq ./cmd/stella-jq
	$(GO) build -o $(BIN)/devauthority ./tools/devauthority

## test: what CI runs — format, vet, audit, unit tests with -race, scenarios
## (including the interop suite against oidc-provider).
test: fmt vet audit kong race interop-deps scripts

## interop-deps: the third-party OpenID Provider of the interop suite, from
## the npm registry at the versions package-lock.json pins.
INTEROP := testscripts/interop/oidc-provider
interop-deps:
	@if ! command -v npm >/dev/null 2>&1; then echo "interop-deps: npm not found; the interop suite will be skipped (CI requires it)"; \
	elif [ ! -d $(INTEROP)/node_modules/oidc-provider ] || [ $(INTEROP)/package-lock.json -nt $(INTEROP)/node_modules/.package-lock.json ]; then \
	  cd $(INTEROP) && npm ci --no-audit --no-fund --loglevel=error; fi

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

audit:
	$(GO) run ./tools/audit ./...

## kong: kong's own suite on stella's patched copy (third_party/kong/STELLA.md;
## -vet=off because kong's tests use bare struct tags such as `cmd`).
kong:
	cd third_party/kong && $(GO) test -vet=off -count=1 ./...

unit:
	$(GO) test ./...

# The keychain suites need a Secret Service. Where gnome-keyring and D-Bus
# are installed, tests run inside a private, unlocked one; elsewhere those
# suites skip and say why (CI sets STELLA_TEST_KEYCHAIN=require: no skipping).
KEYRING := $(shell command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1 && echo scripts/with-keyring.sh)

race:
	$(KEYRING) $(GO) test -race -count=1 $$($(GO) list ./... | grep -v /testscripts)

scripts:
	@[ -n "$(KEYRING)" ] || echo "note: gnome-keyring or dbus-run-session is missing: the keychain suites skip (apt-get install -y gnome-keyring dbus-x11 libsecret-tools)"
	@command -v chromium >/dev/null 2>&1 || [ -n "$$STELLA_TEST_CHROMIUM" ] || echo "note: chromium is missing: the real-browser suites skip (apt-get install -y chromium)"
	$(KEYRING) $(GO) test -count=1 ./testscripts/...

## interop: only the suite against oidc-provider, verbosely.
interop: interop-deps
	$(GO) test -count=1 ./testscripts -run TestInterop -v

## scenario NAME=refresh runs one testscript scenario verbosely.
scenario:
	$(KEYRING) $(GO) test -count=1 ./testscripts -run 'TestScripts/$(NAME)$$' -v

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

lint: fmt vet staticcheck audit

## fuzz: each fuzz target for FUZZTIME (default 30s).
FUZZTIME ?= 30s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

## bench: micro-benchmarks (go test -bench), then whole-process figures
## interleaved against a baseline program (scripts/bench.sh), inside a
## private Secret Service where one can be started.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...
	$(KEYRING) scripts/bench.sh

demo: build
	@./scripts/demo.sh

clean:
	rm -rf $(BIN)
