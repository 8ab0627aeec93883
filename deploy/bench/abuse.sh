#!/usr/bin/env bash
# Abuse benchmark: sign-in flood, body flood and worst-case uploads against
# a running site, 100 attackers each; prints the site's peak RSS per attack
# and how the country page answered meanwhile. Target: under 300 MB.
#
# Usage: bash deploy/bench/abuse.sh [-bin var/bin/familylinks] [-attackers 100] [-duration 15s] [-only login|body|upload]
set -euo pipefail
cd "$(dirname "$0")/../.."

bash deploy/scripts/require-go.sh
mkdir -p var/bin
go build -tags dev -o var/bin/familylinks ./cmd/familylinks
go build -o var/bin/bench-abuse ./deploy/bench/abuse
exec var/bin/bench-abuse "$@"
