# Yutang developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV       := .venv
PY         := $(VENV)/bin/python
UV         := $(VENV)/bin/uv
UV_VERSION := 0.13.9
SERVICES   := members loyalty community
PACKAGES   := services/shared $(addprefix services/,$(SERVICES)) flows infra
PYPROJECTS := $(addsuffix /pyproject.toml,$(PACKAGES))
LOCAL_DISTS := yutang-shared yutang-members yutang-loyalty yutang-community yutang-flows yutang-dev
GATEWAY    := gateway
NODE_STAMP := $(GATEWAY)/node_modules/.installed
PY_STAMP   := $(VENV)/.installed
ROLE       ?= ops

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: help
help: ## List every target with one line each
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ---------------------------------------------------------------------------------------------- install

$(PY):
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(PY_STAMP): requirements.lock $(PYPROJECTS) | $(PY)
	$(UV) pip install --quiet --python $(PY) --require-hashes -r requirements.lock
	$(UV) pip install --quiet --python $(PY) --no-deps --no-build-isolation $(addprefix -e ,$(PACKAGES))
	@touch $@

$(NODE_STAMP): $(GATEWAY)/package.json $(GATEWAY)/package-lock.json
	cd $(GATEWAY) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: install
install: $(PY_STAMP) $(NODE_STAMP) ## Install the virtualenv from requirements.lock and the gateway's npm packages

.PHONY: lock
lock: | $(PY) ## Re-resolve requirements.in into requirements.lock (versions and hashes, no URLs)
	$(UV) pip compile requirements.in --python-version 3.11 --generate-hashes --no-emit-index-url \
	  --no-emit-find-links --no-header --quiet $(addprefix --no-emit-package ,$(LOCAL_DISTS)) -o requirements.lock
	@! grep -n '://' requirements.lock || (echo "requirements.lock records a URL" && exit 1)

# -------------------------------------------------------------------------------------------------- run

.PHONY: run
run: install ## Start the whole stack (embedded PostgreSQL unless DATABASE_URL is set); Ctrl-C stops it
	$(PY) -m yutang_dev run

.PHONY: token
token: $(PY_STAMP) ## Print a development token: ROLE=ops|staff|member|partner|service [MEMBER=id] [SCOPES=a,b] [STORES=S1,S2] [REGIONS=R1] [STAFF_ROLES=guide,store_manager]
	@$(PY) -m yutang_dev token --role $(ROLE) $(if $(MEMBER),--member $(MEMBER)) $(if $(SCOPES),--scopes $(SCOPES)) \
	  $(if $(STORES),--stores $(STORES)) $(if $(REGIONS),--regions $(REGIONS)) $(if $(STAFF_ROLES),--staff-roles $(STAFF_ROLES))

.PHONY: import
import: $(PY_STAMP) ## Bulk import a CSV: KIND=members|orders|balances FILE=path [REJECTS=path] [EARN_POINTS=1] [CLIENT=name]
	$(PY) -m yutang_dev import $(KIND) $(FILE) $(if $(REJECTS),--rejects $(REJECTS)) \
	  $(if $(EARN_POINTS),--earn-points) $(if $(CLIENT),--client $(CLIENT))

.PHONY: db-stop
db-stop: $(PY_STAMP) ## Stop the embedded PostgreSQL under .data/ if one is left running
	$(PY) -m yutang_dev pg stop

# ------------------------------------------------------------------------------------------------ check

.PHONY: test
test: install ## Run the whole test suite (unit, service, GraphQL, contract, end-to-end, flows)
	$(PY) -m pytest

.PHONY: lint
lint: $(PY_STAMP) ## ruff format check, ruff lint and mypy strict
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy services/shared/src $(addsuffix /src,$(addprefix services/,$(SERVICES))) flows/src infra/src bench

.PHONY: fmt
fmt: $(PY_STAMP) ## Format and autofix with ruff
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

.PHONY: sdl
sdl: $(PY_STAMP) ## Export every subgraph's SDL to services/<name>/schema.graphql
	@for s in $(SERVICES); do $(PY) -m yutang_shared.sdl $$s.schema:schema services/$$s/schema.graphql || exit 1; done

.PHONY: compose
compose: sdl $(NODE_STAMP) ## Compose gateway/supergraph.graphql from the subgraphs' SDL
	cd $(GATEWAY) && node compose.mjs

.PHONY: migration
migration: $(PY_STAMP) ## Generate a migration from the models: SERVICE=members MESSAGE="what changed"
	$(PY) -m yutang_dev migrate revision --service $(SERVICE) --message "$(MESSAGE)"

.PHONY: drift
drift: install ## Fail when SDL, supergraph or migrations disagree with the code
	@for s in $(SERVICES); do $(PY) -m yutang_shared.sdl $$s.schema:schema services/$$s/schema.graphql --check || exit 1; done
	cd $(GATEWAY) && node compose.mjs --check
	$(PY) -m yutang_dev migrate check

.PHONY: bench
bench: install ## Run the benchmarks in bench/ and print side-by-side ratios
	$(PY) -m bench

.PHONY: clean
clean: ## Remove the virtualenv, node_modules and .data (stops the embedded database first)
	-$(PY) -m yutang_dev pg stop
	rm -rf $(VENV) $(GATEWAY)/node_modules .data
