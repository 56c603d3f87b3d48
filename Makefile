# The two commands of the README:
#   make run    the monitor on this machine: embedded NATS, a local InfluxDB,
#               simulated devices (deploy/demo.yaml)
#   make test   every test, against real peers (installed by .ci/install-peers)

GOBIN := $(shell go env GOPATH)/bin
export PATH := $(PATH):$(GOBIN):/usr/sbin

.PHONY: run test peers build bench hooks

# `roomwatch version` prints VERSION (a tag, or the commit); without
# -ldflags it prints the module version and commit Go records.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)

build:
	go build -ldflags "-X main.version=$(VERSION)" -o bin/roomwatch ./cmd/roomwatch

peers:
	.ci/install-peers

test: peers
	.ci/check-files
	gofmt -l . | (! grep .) || (echo "gofmt: files above need formatting" >&2; exit 1)
	go vet ./...
	go test -race -count=1 -timeout 40m ./...

run: peers build
	deploy/local/run.sh

bench: peers build
	deploy/local/bench.sh

# The before-commit habit: refuse binaries and files over 1 MB.
hooks:
	git config core.hooksPath .ci/hooks
