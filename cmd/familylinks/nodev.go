//go:build !dev

package main

import (
	"errors"
	"log/slog"
)

// The release binary carries no developer tools: `dev` and `testenv`
// install and run PostgreSQL and Meilisearch (apt-get, npm ci), which a
// production image must never do. `make build` builds with -tags dev.
var errNoDevTools = errors.New("this binary was built without the developer tools; build it with -tags dev (make build does)")

func loadDevEnv(*slog.Logger) {}

func runDev([]string, *slog.Logger, func() error) error { return errNoDevTools }

func runTestEnv([]string, *slog.Logger) error { return errNoDevTools }
