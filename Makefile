# cutover's build, demo and test entry points. Run `make help`.

GO        ?= go
BIN       ?= bin/cutover
CACHE     ?= $(or $(CUTOVER_CACHE),$(HOME)/.cache/cutover)
HYDRA_OLD := $(CACHE)/hydra/v1.11.10/hydra
HYDRA_NEW := $(CACHE)/hydra/v2.3.0/hydra
export CUTOVER_CACHE := $(CACHE)

.PHONY: help build hydra demo test test-short race bench fuzz vet clean bench-verify dbgen

help:
	@echo "make demo   - run the built-in Hydra 1.11.10 -> 2.3.0 check and print the report"
	@echo "make test   - unit tests, race detector, and the end-to-end test on the real stack"
	@echo "make bench  - benchmarks"
	@echo "make bench-verify - verify against the floor and a naive compare on two BENCH_ROWS-row tables (default 10M)"
	@echo "make dbgen DSN=... TOKENS=N - fill a Hydra v1.11.10 database with N generated token rows"
	@echo "make fuzz   - fuzz the scenario loader for FUZZTIME (default 30s)"
	@echo "make hydra  - build both Hydra versions into $(CACHE) (skipped when present)"

build:
	$(GO) build -o $(BIN) ./cmd/cutover

$(HYDRA_OLD):
	cd internal/hydra/build/v1.11.10 && CGO_ENABLED=0 $(GO) build -trimpath -o $@ github.com/ory/hydra

$(HYDRA_NEW):
	cd internal/hydra/build/v2.3.0 && CGO_ENABLED=0 $(GO) build -trimpath -o $@ github.com/ory/hydra/v2

hydra: $(HYDRA_OLD) $(HYDRA_NEW)

demo: build hydra
	$(BIN) run --out cutover-out

vet:
	$(GO) vet ./...

test: hydra vet
	$(GO) test -race -count=1 -timeout 30m ./...

test-short: vet
	$(GO) test -short -count=1 ./...

FUZZTIME ?= 30s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) ./scenarios

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

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
	$(GO) run ./internal/dbgen/cmd/dbgen -dsn '$(DSN)' -tokens $(TOKENS)
