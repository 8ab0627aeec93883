#!/usr/bin/env bash
# Fault-injection run: a throw-away PostgreSQL and Meilisearch, the site
# under a mixed load of concurrent clients for 60 s (country pages, gallery
# searches, photo pages, the contact form), while Meilisearch is killed and
# restarted, PostgreSQL is stopped and started, and the site gets SIGTERM
# and is restarted. Reports errors per kind and per fault window, recovery
# times, acknowledged enquiries missing from PostgreSQL (must be 0) and
# whether the index matches PostgreSQL afterwards (must). See the comment at
# the top of deploy/bench/chaos/main.go.
#
# Usage: bash deploy/bench/chaos.sh [flags]   (make chaos)
# Flags: -workers 16 -duration 60s -meili-at 8s -meili-down 10s
#        -meili-signal kill|term -pg-at 28s -pg-down 2s -pg-mode fast
#        -site-at 44s -strict
# Logs: var/chaos/<time>/ (var/chaos/latest).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash deploy/scripts/require-go.sh
mkdir -p var/bin var/chaos
go build -tags dev -o var/bin/familylinks ./cmd/familylinks
go build -o var/bin/chaos ./deploy/bench/chaos

# The driver stops everything it started, also on Ctrl-C. Should it die
# without doing so (killed outright), stop what its pids file names: by
# process id, after checking that the id is still that program.
cleanup() {
  local pids=var/chaos/latest/pids
  [ -f "$pids" ] || return 0
  while read -r what value; do
    case "$what" in
      site|meili)
        if [ -d "/proc/$value" ] && grep -qa -e familylinks -e meilisearch "/proc/$value/cmdline" 2>/dev/null; then
          echo "chaos: stopping leftover $what (pid $value)" >&2
          kill -KILL "$value" 2>/dev/null || true
        fi ;;
      pgdata)
        if [ -f "$value/postmaster.pid" ]; then
          echo "chaos: stopping leftover PostgreSQL ($value)" >&2
          if [ "$(id -u)" = 0 ]; then
            runuser -u postgres -- pg_ctl stop -m immediate -D "$value" >/dev/null 2>&1 || true
          else
            pg_ctl stop -m immediate -D "$value" >/dev/null 2>&1 || true
          fi
        fi ;;
      work)
        case "$value" in /tmp/familylinks-chaos-*) rm -rf "$value" ;; esac ;;
    esac
  done < "$pids"
  rm -f "$pids"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

set +e
var/bin/chaos "$@"
code=$?
set -e
exit "$code"
