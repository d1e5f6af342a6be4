# cutover's build, demo and test entry points. Run `make help`.

GO        ?= go
BIN       ?= bin/cutover
CACHE     ?= $(or $(CUTOVER_CACHE),$(HOME)/.cache/cutover)
HYDRA_OLD := $(CACHE)/hydra/v1.11.10/hydra
HYDRA_NEW := $(CACHE)/hydra/v2.3.0/hydra
export CUTOVER_CACHE := $(CACHE)

.PHONY: help build hydra images demo test test-short race bench fuzz vet clean

help:
	@echo "make demo   - run the built-in Hydra 1.11.10 -> 2.3.0 check and print the report"
	@echo "make test   - unit tests, race detector, and the end-to-end test on the real stack"
	@echo "make bench  - benchmarks"
	@echo "make fuzz   - fuzz the scenario loader for FUZZTIME (default 30s)"
	@echo "make hydra  - build both Hydra versions into $(CACHE) (skipped when present)"
	@echo "make images - build local images cutover/hydra:VERSION, cutover/postgres:15 (needs docker, root)"

build:
	$(GO) build -o $(BIN) ./cmd/cutover

$(HYDRA_OLD):
	cd internal/hydra/build/v1.11.10 && CGO_ENABLED=0 $(GO) build -trimpath -o $@ github.com/ory/hydra

$(HYDRA_NEW):
	cd internal/hydra/build/v2.3.0 && CGO_ENABLED=0 $(GO) build -trimpath -o $@ github.com/ory/hydra/v2

hydra: $(HYDRA_OLD) $(HYDRA_NEW)

# Local stand-ins for oryd/hydra and postgres on machines without a
# registry; each is skipped when it already exists.
images: hydra
	scripts/images.sh $(CACHE)

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
