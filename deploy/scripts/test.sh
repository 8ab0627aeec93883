#!/usr/bin/env bash
# The tests of `make test`, run inside `familylinks testenv`, which sets the
# throw-away engines' addresses.
#
# Every package runs under the race detector except the three whose tests
# walk the whole site: route by route and payload by payload (./site),
# through Chromium (./site/browsertest), and every country page in every
# language (./site/countries). Their requests go through the same handlers
# that the features' own tests run under -race, the detector made them 5
# to 6 times slower, and the browser journeys spend most of
# their time waiting for pages, not computing. So they run without it, at
# the same time as the rest, which runs at a lower priority (nice): the
# browser's turns come first, and the raced tests use the time it waits.
# The fuzz targets run beside them all, at the lowest priority.
set -uo pipefail
GO=${GO:-go}
# -trimpath, as `make build` and the vet before this use: a package's key
# in the Go build cache then holds no directory, so a fresh clone anywhere
# reuses what the cache has. Without it, a clone in a new place compiled
# the whole module again in each variant (normal, -race, fuzzing): the
# same code took 492 s in a new place against 457 s in a used one.
export GOFLAGS="-trimpath${GOFLAGS:+ $GOFLAGS}"
module=$($GO list -m)
walks=("$module/site" "$module/site/browsertest" "$module/site/countries")
# The raced packages, the longest first (go test starts them in the order
# given, two at a time): a long one started last ran alone at the end.
longest=(cmd/familylinks site/staff site/gallery site/store site/contact search internal/devstack site/photo locales)
mapfile -t all < <($GO list ./...)
mapfile -t raced < <( (printf "$module/%s\n" "${longest[@]}" | grep -x -F "${all[@]/#/-e}"; printf '%s\n' "${all[@]}") |
	awk '!seen[$0]++' | grep -v -x -F -e "${walks[0]}" -e "${walks[1]}" -e "${walks[2]}")

# Each fuzz target runs a number of inputs, not a time: with a time
# (-fuzztime 10s) Go 1.26's coordinator can fail a run that found nothing,
# with "context deadline exceeded", when the time runs out while a worker
# is busy (go.dev/issue/75804, fixed in Go 1.27). A new input is minimized
# for at most 2 s (Go's default is 60 s, which ate whole runs). They run
# from the start at the lowest priority, in the time the tests leave idle.
fuzz() {
	nice -n 19 $GO test -count=1 -run '^$' -fuzz "$1" -fuzztime "$2" -fuzzminimizetime 2s "$3"
}
(fuzz FuzzContactForm 3000x ./site/contact/ && fuzz FuzzGalleryQuery 1000x ./site/gallery/ &&
	fuzz FuzzProcess 50000x ./site/photo/) &
fuzzing=$!
$GO test -count=1 -timeout 30m "${walks[@]}" &
walking=$!
nice -n 10 $GO test -race -count=1 -timeout 30m "${raced[@]}"
race=$?
wait "$walking"
walked=$?
wait "$fuzzing"
fuzzed=$?
if [ "$race" -ne 0 ] || [ "$walked" -ne 0 ] || [ "$fuzzed" -ne 0 ]; then
	echo "test.sh: tests failed (under -race: exit $race; the walks: exit $walked; fuzzing: exit $fuzzed)" >&2
	exit 1
fi
