# webmae: `make run` builds and serves the demo on 127.0.0.1:8080;
# `make test` runs every test in the repository.
GO        ?= go
ADDR      ?= 127.0.0.1:8080
FUZZTIME  ?= 20s

.PHONY: all build run test test-go test-fuzz lint bench bench-go bench-native clean

all: build

build:
	$(GO) build -o webmae .

run: build
	./webmae serve --addr $(ADDR)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test -count=1 -timeout 20m ./...

# Each fuzz target runs for a short bounded time; a crash fails the build.
test-fuzz:
	$(GO) test ./engine/model -run '^$$' -fuzz '^FuzzReadSafetensors$$' -fuzztime $(FUZZTIME)
	$(GO) test ./engine/model -run '^$$' -fuzz '^FuzzParseConfig$$' -fuzztime $(FUZZTIME)

test: lint test-go test-fuzz

bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 3x ./engine/...

bench-native: build
	./webmae bench --backend cpu

bench: bench-go bench-native

clean:
	rm -f webmae
