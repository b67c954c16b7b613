# cc-ci: one entry point for building, testing, linting and the demo.
# Every Go module is listed in go.work; targets iterate over them.
SHELL := /bin/bash
MODULES := $(shell go work edit -json | sed -n 's/.*"DiskPath": "\.\/\(.*\)".*/\1/p')
BIN := $(CURDIR)/bin
GOFLAGS_TEST ?= -count=1
export PATH := $(HOME)/go/bin:$(PATH)

.PHONY: all build test test-unit lint demo docker-up clean bench

all: build

## build: every binary into bin/
build:
	@mkdir -p $(BIN)
	cd plugin && CGO_ENABLED=0 go build -o $(BIN)/cc-ci-plugin ./cmd/cc-ci-plugin
	cd janitor && CGO_ENABLED=0 go build -o $(BIN)/cc-ci-janitor ./cmd/cc-ci-janitor
	cd bridge && CGO_ENABLED=0 go build -o $(BIN)/cc-ci-bridge ./cmd/cc-ci-bridge
	cd dashboard-gen && CGO_ENABLED=0 go build -o $(BIN)/cc-ci-dashboard ./cmd/cc-ci-dashboard
	@ls -1 $(BIN)

## test: every test of every module, including the real-kernel and real-swarm suites
test: docker-up build
	@bash scripts/test.sh $(MODULES)

## lint: gofmt, go vet, staticcheck, shellcheck, yamllint, nix-instantiate --parse
lint:
	@bash scripts/lint.sh $(MODULES)

## demo: a full recipe run on the bundled sample recipe against the local swarm
demo: docker-up build
	@bash scripts/demo.sh

## image: the plugin's OCI image with the FAKE abra, built without Nix or a registry (docs/image.md)
.PHONY: image
image: docker-up
	@bash scripts/image.sh

## docker-up: install/start Docker and a single-node swarm, idempotently
docker-up:
	@bash scripts/docker-up.sh

## bench: benchmarks that print figures (no timed assertions)
bench: docker-up build
	@bash scripts/bench.sh $(MODULES)

clean:
	rm -rf $(BIN)

## vendor-hashes: recompute nix/pkgs/vendor-hashes.nix, the one thing to refresh after a go.mod/go.sum change
.PHONY: vendor-hashes
vendor-hashes:
	@bash scripts/vendor-hashes.sh
