# cutover's build, demo and test entry points. Run `make help`.

GO        ?= go
BIN       ?= bin/cutover
CACHE     ?= $(or $(CUTOVER_CACHE),$(HOME)/.cache/cutover)
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
HYDRA_OLD := $(CACHE)/hydra/v1.11.10/hydra
HYDRA_NEW := $(CACHE)/hydra/v2.3.0/hydra
export CUTOVER_CACHE := $(CACHE)

.PHONY: help build hydra images demo test test-short race bench bench-loadgen bench-verify soak dbgen fuzz vet clean

help:
	@echo "make demo   - run the built-in Hydra 1.11.10 -> 2.3.0 check and print the report"
	@echo "make test   - unit tests, race detector, and the end-to-end test on the real stack"
	@echo "make bench  - benchmarks"
	@echo "make bench-loadgen - loadgen against raw vegeta, 6 interleaved runs"
	@echo "make soak   - the load generator alone for SOAKTIME (default 10m): bounded memory, exact P95"
	@echo "make bench-verify - verify against the floor and a naive compare on two BENCH_ROWS-row tables (default 10M)"
	@echo "make dbgen DSN=... TOKENS=N - fill a Hydra v1.11.10 database with N generated token rows"
	@echo "make fuzz   - fuzz the scenario loader for FUZZTIME (default 30s)"
	@echo "make hydra  - build both Hydra versions into $(CACHE) (skipped when present)"
	@echo "make images - build local images cutover/hydra:VERSION, cutover/postgres:15 (needs docker, root)"

build:
	$(GO) build -ldflags "-X github.com/cutover-dev/cutover/internal/cli.Version=$(VERSION)" -o $(BIN) ./cmd/cutover

$(HYDRA_OLD):
	cd internal/hydra/build/v1.11.10 && CGO_ENABLED=0 $(GO) build -trimpath -o $@ github.com/ory/hydra

$(HYDRA_NEW):
	cd internal/hydra/build/v2.3.0 && CGO_ENABLED=0 $(GO) build -trimpath -o $@ github.com/ory/hydra/v2

hydra: $(HYDRA_OLD) $(HYDRA_NEW)

# Local stand-ins for oryd/hydra and postgres on machines without a
# registry; each is skipped when it already exists.
images: hydra
	scripts/images.sh $(CACHE)

# Exit status 3 means the check ran to the end and found the upgrade
# unsafe; the demo reports it rather than failing make.
demo: build hydra
	@$(BIN) run --out cutover-out; rc=$$?; \
	if [ $$rc -eq 3 ]; then echo "demo: finished; a gate failed (exit 3), see the report above" >&2; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi

vet:
	$(GO) vet ./...

# The tests, under the race detector, then a short fuzzing of the
# scenario loader (make fuzz runs it longer).
test: hydra vet
	$(GO) test -race -count=1 -timeout 40m ./...
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime 10s ./scenarios

test-short: vet
	$(GO) test -short -count=1 ./...

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./scenarios

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

# loadgen against raw vegeta on the same loopback endpoint, interleaved;
# compare the req/s lines (benchstat works on the output).
bench-loadgen:
	$(GO) test -run '^$$' -bench Throughput -benchtime 3x -count 6 ./loadgen

# The generator alone for SOAKTIME at SOAKRATE against a loopback
# server: bounded RSS, histogram P95 against all samples. Not in `test`.
SOAKTIME ?= 10m
SOAKRATE ?= 3000
soak:
	$(GO) test -count=1 -timeout 30m -run 'TestSoak$$' -v ./loadgen -soak=$(SOAKTIME) -soak-rate=$(SOAKRATE)

clean:
	rm -rf bin cutover-out

# verify's speed goal: two identical BENCH_ROWS-row token tables (and a
# copy with 100 changed rows), generated once per run; prints verify's
# time, the floor (a bare hash scan of both tables) and a naive
# fetch-and-compare. 10M rows take several minutes to generate.
BENCH_ROWS ?= 10000000
bench-verify:
	CUTOVER_BENCH_ROWS=$(BENCH_ROWS) $(GO) test -run '^$$' -bench BenchmarkVerify -benchtime 1x -benchmem \
		-timeout 90m ./verify

TOKENS ?= 1000000
dbgen:
	@# not echoed: DSN may hold a password
	@$(GO) run ./internal/dbgen/cmd/dbgen -dsn '$(DSN)' -tokens $(TOKENS)
