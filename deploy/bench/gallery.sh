#!/usr/bin/env bash
# Trace the Face gallery benchmark: 100,000 synthetic published entries loaded
# into a throw-away PostgreSQL, `familylinks reindex` timed (target <= 15 s),
# then GET /en/trace-the-face?origin=af&seeking=mother under wrk compared with
# the same search sent to Meilisearch directly (target: site p50 within 1 ms).
# Exits non-zero only when the setup fails, not on a missed target.
#
# Usage: bash deploy/bench/gallery.sh [flags]   (make bench-gallery)
# Flags: -entries 100000 -n 2000 -c 32 -t 2 -duration 10s
#        -path '/en/trace-the-face?origin=af&seeking=mother'
# Needs PostgreSQL 15 (initdb, pg_ctl, postgres) like `make test`, the pinned
# Meilisearch of internal/devstack, and wrk (installed from Debian if missing
# when run as root). The engines run in a temp dir that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash deploy/scripts/require-go.sh
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "bench-gallery: wrk is missing; install the Debian package wrk" >&2; exit 1
  fi
  echo "bench-gallery: installing wrk" >&2
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
mkdir -p var/bin
go build -tags dev -o var/bin/familylinks ./cmd/familylinks
go build -o var/bin/bench-gallery ./deploy/bench/gallery
exec var/bin/bench-gallery "$@"
