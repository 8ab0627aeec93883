#!/usr/bin/env bash
# Contact-form benchmark: N clients post valid enquiries for a while; part-way
# the site is killed with SIGKILL and restarted on the same port. Every
# reference the site acknowledged (303 + fl_sent) must then be in PostgreSQL.
# Prints the sustained rate of acknowledged enquiries and their latency.
#
# Usage: bash deploy/bench/contact.sh [flags]   (make bench-contact)
# Flags: -workers 64 -duration 20s -kill-at 0.4 -lang en -meili -timeout 10s
# Needs PostgreSQL 15 (initdb, pg_ctl, postgres) like `make test`; it runs a
# throw-away cluster in a temp dir and removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash deploy/scripts/require-go.sh
mkdir -p var/bin
go build -tags dev -o var/bin/familylinks ./cmd/familylinks
go build -o var/bin/bench-contact ./deploy/bench/contact
exec var/bin/bench-contact "$@"
