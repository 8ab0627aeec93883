#!/usr/bin/env bash
# Fails with a clear message when the Go toolchain the module needs is absent.
# Modules themselves come from the Go module proxy on first build.
set -euo pipefail
if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    echo "require-go: add /usr/local/go/bin to PATH" >&2
  else
    echo "require-go: Go is not installed; install Go 1.26 or later (https://go.dev/dl/)" >&2
  fi
  exit 1
fi
want=$(awk '/^go /{print $2}' "$(dirname "$0")/../../go.mod")
have=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" != "$want" ]; then
  echo "require-go: go.mod needs Go $want, found $have" >&2
  exit 1
fi
