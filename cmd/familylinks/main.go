// Command familylinks is the Family Links site and its tools, in one binary.
//
//	familylinks serve   serve the site (FAMILYLINKS_ADDR, default 127.0.0.1:8080)
//	familylinks check   validate the content and the translations
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site"
)

const usage = `familylinks: the Family Links site and its tools.

Usage:
  familylinks serve   serve the site
  familylinks check   validate the country data and every translation

Environment:
  FAMILYLINKS_ADDR             listen address (default 127.0.0.1:8080)
  FAMILYLINKS_BASE_URL         public origin for canonical links (default http://ADDR)
  FAMILYLINKS_TRUSTED_PROXIES  comma-separated proxy IPs or CIDRs whose X-Real-IP is trusted
  FAMILYLINKS_LOG_LEVEL        debug, info, warn or error (default info)
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	log := newLogger(os.Stderr, os.Getenv("FAMILYLINKS_LOG_LEVEL"))
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(log)
	case "check":
		err = check(os.Stdout, log)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "familylinks: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "familylinks:", err)
		os.Exit(1)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil || level == "" {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func env(key, def string) string {
	if v := strings.TrimSpace(os.Getenv(key)); v != "" {
		return v
	}
	return def
}

// load reads and validates the content and the catalogues.
func load(log *slog.Logger) (*content.Data, *locales.Catalog, error) {
	data, err := content.Load()
	if err != nil {
		return nil, nil, err
	}
	cat, err := locales.Load(log)
	if err != nil {
		return nil, nil, err
	}
	return data, cat, nil
}

func isoCodes(d *content.Data) []string {
	codes := make([]string, len(d.Countries))
	for i, c := range d.Countries {
		codes[i] = c.ISO2
	}
	return codes
}

func check(w io.Writer, log *slog.Logger) error {
	data, cat, err := load(log)
	if err != nil {
		return err
	}
	if err := cat.Check(isoCodes(data)); err != nil {
		return err
	}
	fmt.Fprintf(w, "content: %d countries, %d National Societies: ok\n", len(data.Countries), data.Societies())
	fmt.Fprintf(w, "locales: %d languages, every message and country name present: ok\n", len(cat.Languages()))
	return nil
}

func serve(log *slog.Logger) error {
	start := time.Now()
	addr := env("FAMILYLINKS_ADDR", "127.0.0.1:8080")
	data, cat, err := load(log)
	if err != nil {
		return err
	}
	if err := cat.Check(isoCodes(data)); err != nil {
		// Serve all the same: a gap falls back to English and is logged;
		// `familylinks check` and the tests are what fail on it.
		log.Warn("translations incomplete", "err", err)
	}
	var proxies []string
	for _, p := range strings.Split(os.Getenv("FAMILYLINKS_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			proxies = append(proxies, p)
		}
	}
	app, err := site.New(site.Config{
		BaseURL:        env("FAMILYLINKS_BASE_URL", "http://"+addr),
		TrustedProxies: proxies,
	}, site.Deps{Content: data, Catalog: cat, Log: log})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(addr) }()
	log.Info("serving", "addr", addr, "startup", time.Since(start).String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := app.ShutdownWithContext(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
