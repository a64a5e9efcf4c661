# Sluice developer commands. `make help` lists them.
#
# Everything installs from this repository's own files: the Temporal CLI is
# built from the Go module proxy at a pinned version into a cache outside the
# checkout, so it is built once per machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TEMPORAL_VERSION ?= v1.5.1
TOOLS_DIR        ?= $(HOME)/.cache/sluice/tools
TEMPORAL         ?= $(TOOLS_DIR)/temporal-$(TEMPORAL_VERSION)/temporal
WORKFLOWCHECK    ?= $(TOOLS_DIR)/workflowcheck-v0.6.0/workflowcheck

PROJECT        ?= examples/olist
DEMO_PIPELINE  ?= olist_daily
DEMO_ENV       ?= local
ORDERS         ?= 50000
TEMPORAL_PORT  ?= 7233
UI_PORT        ?= 8233
RUN_DIR        := .run
BIN            := bin

SEARCH_ATTRIBUTES := SluicePipeline=Keyword SluiceEnv=Keyword SluiceTrigger=Keyword \
                     SluiceStatus=Keyword SluiceLogicalDate=Datetime SluiceFailedTasks=KeywordList

export SLUICE_TEMPORAL_CLI := $(TEMPORAL)

.PHONY: help
help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build bin/sluice and bin/sluice-worker
	@mkdir -p $(BIN)
	go build -o $(BIN)/sluice ./starter
	go build -o $(BIN)/sluice-worker ./worker

$(TEMPORAL):
	@echo ">> building the Temporal CLI $(TEMPORAL_VERSION) into $(dir $@) (once per machine, a few minutes)"
	@mkdir -p $(dir $@)
	GOBIN=$(abspath $(dir $@)) go install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VERSION)

.PHONY: temporal
temporal: $(TEMPORAL) ## install the Temporal CLI (pinned) into the tools cache

.PHONY: postgres
postgres: ## make sure the local Postgres is up (starts the cluster if installed but stopped)
	@scripts/ensure-postgres

.PHONY: dev-server
dev-server: $(TEMPORAL) ## start a Temporal dev server (UI :8233) with Sluice's search attributes, unless one runs on :7233
	@mkdir -p $(RUN_DIR)
	@if (exec 3<>/dev/tcp/127.0.0.1/$(TEMPORAL_PORT)) 2>/dev/null; then \
	  echo ">> a Temporal server already listens on :$(TEMPORAL_PORT)"; \
	else \
	  echo ">> starting the Temporal dev server (log: $(RUN_DIR)/temporal.log)"; \
	  nohup $(TEMPORAL) server start-dev --ip 127.0.0.1 --port $(TEMPORAL_PORT) --ui-port $(UI_PORT) \
	    --db-filename $(RUN_DIR)/temporal.db --log-level warn \
	    $(foreach a,$(SEARCH_ATTRIBUTES),--search-attribute $(a)) \
	    > $(RUN_DIR)/temporal.log 2>&1 & echo $$! > $(RUN_DIR)/temporal.pid; \
	  for i in $$(seq 1 60); do \
	    $(TEMPORAL) operator cluster health --address 127.0.0.1:$(TEMPORAL_PORT) >/dev/null 2>&1 && break; sleep 0.5; \
	  done; \
	  $(TEMPORAL) operator cluster health --address 127.0.0.1:$(TEMPORAL_PORT) >/dev/null || { cat $(RUN_DIR)/temporal.log; exit 1; }; \
	fi

.PHONY: worker
worker: build postgres dev-server ## (re)start a worker on $(PROJECT) in the background (log: .run/worker.log)
	@scripts/start-worker $(PROJECT)

.PHONY: demo
demo: worker ## run the main job (olist_daily, local engine) end to end on an empty lakehouse; ORDERS=N scales it, KEEP=1 keeps earlier data
	@PROJECT=$(PROJECT) DEMO_PIPELINE=$(DEMO_PIPELINE) DEMO_ENV=$(DEMO_ENV) ORDERS=$(ORDERS) scripts/demo
	@echo ""
	@echo "Web UI: http://localhost:$(UI_PORT)/namespaces/default/workflows?query=SluicePipeline%3D%22$(DEMO_PIPELINE)%22"
	@echo "Stop the worker and the dev server with: make stop"

.PHONY: stop
stop: ## stop the worker and dev server started by make
	@for p in worker temporal; do \
	  if [ -f $(RUN_DIR)/$$p.pid ]; then \
	    kill $$(cat $(RUN_DIR)/$$p.pid) 2>/dev/null && echo ">> stopped $$p" || true; rm -f $(RUN_DIR)/$$p.pid; \
	  fi; \
	done

.PHONY: test
test: postgres $(TEMPORAL) ## run every test CI runs: unit, workflow, integration (real Postgres + dev server)
	go vet ./...
	go test -count=1 -timeout 25m ./...

.PHONY: test-short
test-short: ## unit tests only (no dev server)
	go test -short ./...

$(WORKFLOWCHECK):
	@mkdir -p $(dir $@)
	GOBIN=$(abspath $(dir $@)) go install go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

.PHONY: lint
lint: $(WORKFLOWCHECK) ## gofmt, go vet and Temporal's workflowcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	go vet ./...
	$(WORKFLOWCHECK) -config workflowcheck.config.yaml ./workflows/...

.PHONY: fuzz
fuzz: ## fuzz the pipeline parser for 60s
	go test ./internal/spec -run '^$$' -fuzz FuzzParsePipeline -fuzztime 60s

.PHONY: bench
bench: postgres $(TEMPORAL) ## benchmarks, each printed side by side with its baseline and the ratio (see README)
	@echo ">> orchestration overhead (200-task chain and fan-out vs a minimal workflow) and olist_daily vs psql"
	go test ./bench -run '^$$' -bench . -benchtime 1x -timeout 60m
	@echo ">> data generation at 1M orders"
	go test ./internal/datagen -run '^$$' -bench 'Generate/1M' -benchtime 1x -benchmem
	@echo ">> ingestion vs psql \copy of the same files into the same tables"
	go test ./internal/lakehouse -run '^$$' -bench 'Ingest$$' -benchtime 3x
	@echo ">> dbt manifest parsing (largest manifest in ../shared/testdata)"
	go test ./internal/dbt -run '^$$' -bench ParseManifest -benchmem

.PHONY: clean
clean: stop ## remove build output and local run state
	rm -rf $(BIN) $(RUN_DIR)
