# Family Links. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := var/bin/familylinks

.PHONY: help run test check build vet fmt bench bench-abuse bench-contact bench-gallery chaos k8s-check audit deps-outdated clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: build ## the whole stack: PostgreSQL and Meilisearch under ./var (unless DATABASE_URL and MEILI_URL are set), then the site at http://127.0.0.1:8080
	$(BIN) dev

test: build ## every test (with -race but for the three site walks: deploy/scripts/test.sh), against a throw-away PostgreSQL and Meilisearch, in Debian's Chromium and through the Nu HTML Checker (installed if missing); plus vet, gofmt, the content check and k8s-check
	@test -z "$$(gofmt -l cmd internal site content locales search deploy)" || { gofmt -l cmd internal site content locales search deploy; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet -trimpath ./...
	$(GO) vet -trimpath -tags dev ./cmd/...
	$(BIN) check
	$(MAKE) k8s-check
	bash deploy/scripts/require-browser.sh
	GO=$(GO) $(BIN) testenv -- bash deploy/scripts/test.sh

check: ## validate the country data and the translations
	$(GO) run ./cmd/familylinks check

build: ## build the binary into var/bin
	@bash deploy/scripts/require-go.sh
	$(GO) build -trimpath -tags dev -o $(BIN) ./cmd/familylinks

vet: ## go vet (the developer build's files too)
	$(GO) vet ./...
	$(GO) vet -tags dev ./cmd/...

fmt: ## gofmt the tree
	gofmt -w cmd internal site content locales search deploy

bench: build ## country page with a Society card: the site against nginx serving the same bytes, gzip and identity (installs nginx-light and wrk if missing; BENCH_CARDS=0 without cards)
	bash deploy/bench/country-page.sh

bench-abuse: build ## abuse: 100 attackers each of failed sign-ins, 10 MB bodies and 40 MP uploads; prints the site's peak RSS (target 300 MB) and the country page's answers meanwhile
	bash deploy/bench/abuse.sh

bench-contact: build ## contact form: clients post enquiries for 20 s, the site is killed with SIGKILL part-way and restarted; every acknowledged reference must be in PostgreSQL
	bash deploy/bench/contact.sh

bench-gallery: build ## gallery: 100k synthetic entries; times reindex (target 15 s) and compares the gallery page under wrk with the same search sent to Meilisearch directly (target: p50 within 1 ms); installs wrk if missing
	bash deploy/bench/gallery.sh

chaos: build ## faults under a mixed load for 60 s: Meilisearch killed and restarted, PostgreSQL restarted, the site sent SIGTERM and restarted; no acknowledged enquiry may be lost and the index must match PostgreSQL afterwards (logs in var/chaos)
	bash deploy/bench/chaos.sh

k8s-check: ## validate deploy/k8s offline: strict decoding into the Kubernetes API types, plus cross-checks with the code (own module: deploy/k8s/check)
	cd deploy/k8s/check && $(GO) test -trimpath -count=1 ./...

audit: ## govulncheck (pinned) over the module; needs vuln.go.dev, which this project's CI machine cannot reach, so CI does not run it
	$(GO) run golang.org/x/vuln/cmd/govulncheck@v1.1.4 ./...

deps-outdated: ## the direct dependencies that have a newer version on the module proxy (govulncheck's database is out of reach here)
	@$(GO) list -e -m -u -f '{{if and (not .Indirect) .Update}}{{.Path}} {{.Version}} -> {{.Update.Version}}{{end}}' all

clean: ## remove build output and local data
	rm -rf var/bin var/bench var/bin/bench-contact
