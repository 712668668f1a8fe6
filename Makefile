# gridcase — see README.md. `make run` and `make test` are all a newcomer needs.
GO        ?= go
SWAG      := $(GO) tool swag
SWAGFLAGS := -g doc.go -d internal/httpapi --parseInternal --packageName api --outputTypes go,json,yaml
MOBILE_TAGS := ops,auth,me,regions,grids,categories,cases,case-actions,tasks,attachments
WEB_TAGS    := ops,auth,me,users,departments,api-keys,regions,grids,categories,cases,case-actions,tasks,attachments,calendars,supervision,events,webhooks,stats,exports

.PHONY: run build test test-short spec spec-check lint bench clean

run: ## start the server on SQLite with the demo city
	GRIDCASE_DEMO=$${GRIDCASE_DEMO:-true} $(GO) run ./cmd/gridcase serve

build:
	$(GO) build -o bin/gridcase ./cmd/gridcase

test: spec-check ## the whole suite, on SQLite and PostgreSQL
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

test-short:
	$(GO) test -count=1 ./...

spec: ## regenerate the OpenAPI documents in api/
	$(SWAG) init $(SWAGFLAGS) -o api --quiet
	$(SWAG) init $(SWAGFLAGS) -o api --quiet --instanceName mobile --tags $(MOBILE_TAGS)
	$(SWAG) init $(SWAGFLAGS) -o api --quiet --instanceName web --tags $(WEB_TAGS)

spec-check: ## fail when the committed spec is stale
	@rm -rf .spec-check && mkdir -p .spec-check
	@$(SWAG) init $(SWAGFLAGS) -o .spec-check --quiet
	@$(SWAG) init $(SWAGFLAGS) -o .spec-check --quiet --instanceName mobile --tags $(MOBILE_TAGS)
	@$(SWAG) init $(SWAGFLAGS) -o .spec-check --quiet --instanceName web --tags $(WEB_TAGS)
	@diff -r api .spec-check >/dev/null || { diff -r api .spec-check | head -40; rm -rf .spec-check; echo "api/ is stale: run make spec and commit"; exit 1; }
	@rm -rf .spec-check
	@echo "spec is up to date"

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

clean:
	rm -rf bin .spec-check
