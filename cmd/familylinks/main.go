// Command familylinks is the Family Links site and its tools, in one binary.
// Run it without arguments for the list of commands.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site"
	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/contact"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/notify"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
)

const usage = `familylinks: the Family Links site and its tools.

Usage:
  familylinks serve                 serve the site
  familylinks dev                   start a local PostgreSQL and Meilisearch under ./var (unless
                                    DATABASE_URL and MEILI_URL are set), migrate, and serve
  familylinks migrate               apply the database migrations
  familylinks check                 validate the country data and every translation
  familylinks staff add --email E --society XX --role caseworker|society_admin|admin [--page-editor] [--password-stdin]
                                    create a staff account; prints a one-time password (72 hours)
  familylinks staff reset --email E
                                    give an account a new one-time password (72 hours); ends every session of it
  familylinks staff reset-totp --email E
                                    remove an account's second factor (lost phone and codes); ends every session of it
  familylinks staff disable --email E
                                    disable an account and end every session of it
  familylinks routes                print where an enquiry from each country goes, and why
  familylinks keygen [ID]           print a new data key entry for FAMILYLINKS_DATA_KEY
  familylinks keygen --csrf         print a new FAMILYLINKS_CSRF_KEY
  familylinks rekey                 re-seal all personal data under the first key of FAMILYLINKS_DATA_KEY
  familylinks purge                 delete the personal data of enquiries closed more than
                                    FAMILYLINKS_RETENTION_DAYS (default 365) ago, keeping a tombstone,
                                    and withdraw gallery entries whose consent review date has passed
  familylinks seed-demo [N]         publish N (default 24) demo entries with generated silhouettes, marked as demo
  familylinks reindex               rebuild the Trace the Face index from PostgreSQL, with no downtime
  familylinks check-index           report differences between the index and PostgreSQL
  familylinks testenv -- CMD ...    run CMD with a throw-away PostgreSQL and Meilisearch (make test)
  familylinks env [--names]         list the environment variables familylinks reads, their defaults
                                    and what they do (--names: the names only)
  familylinks paths                 list the paths the site answers GET on, as its router has them
  familylinks directory export [FILE]
                                    write the open directory (/api/v1/directory.json: places, Societies,
                                    published cards) to FILE or standard output
  familylinks directory import --as EMAIL FILE
                                    load the cards in such a file as drafts saved by EMAIL (an admin or
                                    page editor); a second person publishes each. Nothing is saved when
                                    any card is invalid
  familylinks directory publish --as EMAIL [--society XX]
                                    publish the open drafts EMAIL did not save (the second person of an
                                    import)

Environment: familylinks env lists every variable, its default and what it does.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	// Each command reads its configuration again when it runs (dev sets
	// variables first); here only the log level.
	cfg, cfgErr := mustConfig()
	log := newLogger(os.Stderr, cfg.LogLevel)
	if cfgErr != nil {
		log.Warn("configuration", "err", cfgErr)
	}
	// serve reads only its environment; in a developer build the other
	// commands also find a running `familylinks dev` (var/dev.env).
	if os.Args[1] != "serve" && os.Args[1] != "dev" {
		loadDevEnv(log)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(log)
	case "dev":
		err = runDev(os.Args[2:], log, func() error { return serve(log) })
	case "testenv":
		err = runTestEnv(os.Args[2:], log)
	case "migrate":
		err = migrateCmd(log)
	case "staff":
		err = staffCmd(os.Args[2:], os.Stdin, os.Stdout)
	case "routes":
		err = routesCmd(os.Stdout)
	case "rekey":
		err = rekeyCmd(os.Stdout)
	case "purge":
		err = purgeCmd(os.Stdout)
	case "keygen":
		err = keygenCmd(os.Args[2:], os.Stdout)
	case "seed-demo":
		err = seedDemoCmd(os.Args[2:], os.Stdout)
	case "reindex":
		err = indexCmd(false, os.Stdout, log)
	case "check-index":
		err = indexCmd(true, os.Stdout, log)
	case "env":
		err = envCmd(os.Stdout, os.Args[2:])
	case "paths":
		err = pathsCmd(os.Stdout, log)
	case "directory":
		err = directoryCmd(os.Args[2:], os.Stdout, log)
	case "check":
		err = check(os.Stdout, log, os.Args[2:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "familylinks: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		os.Exit(coded.ExitCode())
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

func check(w io.Writer, log *slog.Logger, args []string) error {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	stats := fs.Bool("stats", false, "also print what the country pages offer (places, websites, sourced services, contact routes)")
	dataFile := fs.String("data", "", "check this countries.json instead of the embedded one (for example an older version, to compare)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, cat, err := load(log)
	if err != nil {
		return err
	}
	if *dataFile != "" {
		b, err := os.ReadFile(*dataFile)
		if err != nil {
			return err
		}
		if data, err = content.Parse(b); err != nil {
			return err
		}
	}
	var errs []error
	if err := cat.Check(isoCodes(data)); err != nil {
		errs = append(errs, err)
	}
	// The safety wording, and every service claim's scope, in every language.
	if err := cat.Require(append(locales.SafetyMessages(), data.Scopes()...)); err != nil {
		errs = append(errs, err)
	}
	st, err := site.AuditCountryPages(site.Deps{Content: data, Catalog: cat, Log: log})
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintf(w, "content: %d countries, %d National Societies: ok\n", len(data.Countries), data.Societies())
	fmt.Fprintf(w, "locales: %d languages, every message and country name present: ok\n", len(cat.Languages()))
	fmt.Fprintf(w, "country pages: %d, in %d languages: ok\n", st.Places, len(cat.Languages()))
	if *stats {
		fmt.Fprintf(w, "places a person can choose as residence: %d\n", st.Places)
		fmt.Fprintf(w, "member Societies that can receive requests: %d\n", st.Societies)
		fmt.Fprintf(w, "pages linking a helping Society's website: %d\n", st.Websites)
		fmt.Fprintf(w, "services with a named source: %d\n", st.SourcedServices)
		fmt.Fprintf(w, "pages naming the covering ICRC delegation: %d\n", st.Delegations)
		fmt.Fprintf(w, "pages with a phone number, e-mail or address: %d\n", st.ContactDetails)
		fmt.Fprintf(w, "pages with a way to send a request through this site: %d\n", st.ContactForm)
		fmt.Fprintf(w, "pages with any contact route (website or request): %d\n", st.AnyRoute)
	}
	return nil
}

// defaultMemoryLimit is the Go runtime's soft memory limit for serve when
// GOMEMLIMIT is not set. Without one, the collector lets the heap grow to
// twice what is live, so the photo pipeline's 200 MB budget could show as
// 380 MB of RSS; with it, a replica stays near 250 MB under upload floods
// (make bench-abuse). Set GOMEMLIMIT to about 80% of a container's limit.
const defaultMemoryLimit = 256 << 20

func serve(log *slog.Logger) error {
	start := time.Now()
	// Read here, not in main: `dev` sets the variables just before.
	cfg, err := mustConfig()
	if err != nil {
		return err
	}
	if cfg.MemLimit == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	addr := cfg.Addr
	data, cat, err := load(log)
	if err != nil {
		return err
	}
	if err := cat.Check(isoCodes(data)); err != nil {
		// Serve all the same: a gap falls back to English and is logged;
		// `familylinks check` and the tests are what fail on it.
		log.Warn("translations incomplete", "err", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	deps := site.Deps{Content: data, Catalog: cat, Log: log}
	if dsn := cfg.DatabaseURL; dsn != "" {
		st, err := openStore(ctx, dsn)
		if err != nil {
			return err
		}
		defer st.Close()
		if cfg.AutoMigrate {
			if err := st.Migrate(ctx); err != nil {
				return err
			}
		}
		deps.Store = st
		// Every replica shows a newly published card within moments: a
		// publish anywhere is announced through PostgreSQL.
		deps.Cards = cards.NewDirectory(st.PublishedCards)
		go st.Listen(ctx, store.CardsChannel, func(string) { deps.Cards.Changed() })
		if deps.Keys, err = keyring(cfg); err != nil {
			return err
		}
		setHitSecret(st, deps.Keys)
		if deps.CSRFKey, err = csrfKey(cfg); err != nil {
			return err
		}
		// `familylinks dev` asks for a living gallery on an empty database.
		if cfg.SeedDemo {
			if n, err := st.GalleryCount(ctx); err == nil && n == 0 {
				made, err := gallery.SeedDemo(ctx, st, deps.Keys, 24)
				if err != nil {
					return err
				}
				log.Info("demo gallery seeded", "entries", made)
			}
			made, err := cards.SeedExamples(ctx, st)
			if err != nil {
				return err
			}
			log.Info("example card drafts seeded (back office only; never publishable)", "cards", made)
		}
	} else {
		log.Warn("DATABASE_URL is not set: the back office is off and /readyz reports PostgreSQL missing")
	}
	if u := cfg.MeiliURL; u != "" {
		sc, err := search.New(search.Config{URL: u, APIKey: cfg.MeiliAPIKey, SearchKey: cfg.MeiliSearchKey, Prefix: cfg.IndexPrefix})
		if err != nil {
			return err
		}
		deps.Search = sc
		// Meilisearch may still be starting, or down: the site serves
		// without it and keeps trying to apply the index settings.
		go ensureIndex(ctx, sc, cfg.MeiliSearchKey == "", log)
	} else {
		log.Warn("MEILI_URL is not set: search is off and /readyz reports Meilisearch missing")
	}

	proxies, err := trustedProxies(cfg.TrustedProxies)
	if err != nil {
		return err
	}
	app, err := site.New(site.Config{
		BaseURL:        cfg.BaseURL,
		TrustedProxies: proxies,
	}, deps)
	if err != nil {
		return err
	}
	workerDone := make(chan struct{})
	if deps.Store != nil {
		mailer, err := notify.New(cfg.SMTPURL, log)
		if err != nil {
			return err
		}
		base := strings.TrimSuffix(cfg.BaseURL, "/")
		handlers := map[string]store.OutboxHandler{
			store.TopicEnquiryNotify: contact.NotifyHandler(data, cat, deps.Store, mailer, base, log),
			store.TopicCardStale:     cards.ReminderHandler(cat, deps.Store, mailer, data.InboxName, base, log),
			store.TopicStaffInvite:   staff.InviteHandler(cat, deps.Keys, mailer, base, log),
		}
		if deps.Search != nil {
			for topic, h := range (&gallery.Indexer{Store: deps.Store, Search: deps.Search, Catalog: cat}).Handlers() {
				handlers[topic] = h
			}
		}
		w := &store.Worker{Store: deps.Store, Log: log, Handlers: handlers}
		cleanupDone, err := startCleanup(ctx, deps.Store, cfg.AuditAddrDays, cfg.AuditKeepDays, log)
		if err != nil {
			return err
		}
		go func() { defer close(workerDone); _ = w.Run(ctx); <-cleanupDone }()
	} else {
		close(workerDone)
	}
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
	<-workerDone
	return nil
}

// searchClient connects to the Meilisearch at url with MEILI_API_KEY and
// FAMILYLINKS_INDEX_PREFIX: serve, reindex and check-index must agree on
// the index they mean.
// searchClient is the Meilisearch client of the operator's commands
// (reindex, check-index), which may search with MEILI_API_KEY; the site
// itself never does (serve).
func searchClient(cfg Config) (*search.Client, error) {
	return search.New(search.Config{URL: cfg.MeiliURL, APIKey: cfg.MeiliAPIKey, SearchWithAPIKey: true, Prefix: cfg.IndexPrefix})
}

// keyring reads FAMILYLINKS_DATA_KEY, which seals personal data.
func keyring(cfg Config) (*crypt.Keyring, error) {
	v := cfg.DataKey
	if v == "" {
		return nil, fmt.Errorf("%s is not set: it seals personal data at rest (format id:base64-32-bytes; `familylinks keygen` makes one)", crypt.EnvVar)
	}
	return crypt.Parse(v)
}

// EnvCSRFKey names the secret that signs CSRF tokens.
const EnvCSRFKey = "FAMILYLINKS_CSRF_KEY"

// csrfKey reads FAMILYLINKS_CSRF_KEY: at least 32 bytes, base64-encoded,
// the same on every replica.
func csrfKey(cfg Config) ([]byte, error) {
	v := cfg.CSRFKey
	if v == "" {
		return nil, fmt.Errorf("%s is not set: it signs the forms' CSRF tokens, the same on every replica (`familylinks keygen --csrf` makes one)", EnvCSRFKey)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		b, err = base64.RawStdEncoding.DecodeString(v)
	}
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("%s must be at least 32 bytes, base64-encoded (`familylinks keygen --csrf` makes one)", EnvCSRFKey)
	}
	return b, nil
}

// newCSRFKey returns a fresh FAMILYLINKS_CSRF_KEY value.
func newCSRFKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func openStore(ctx context.Context, dsn string) (*store.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return store.Open(ctx, dsn)
}

// ensureIndex applies the search settings, retrying with backoff until it
// succeeds or the server stops.
func ensureIndex(ctx context.Context, sc *search.Client, makeSearchKey bool, log *slog.Logger) {
	delay := time.Second
	for {
		err := sc.EnsureFaces(ctx)
		if err == nil && makeSearchKey {
			// No search-only key given: make one with MEILI_API_KEY, which
			// works only with the master key (as in `make run` and tests).
			// Until there is one the gallery answers from PostgreSQL.
			if _, err = sc.EnsureSearchKey(ctx); err != nil {
				err = fmt.Errorf("MEILI_SEARCH_KEY is not set and MEILI_API_KEY cannot make a search-only key: %w", err)
			}
		}
		if err == nil {
			log.Info("search index ready", "index", sc.FacesIndex())
			return
		}
		log.Warn("search index not ready; retrying", "err", err, "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(delay*2, time.Minute)
	}
}

func migrateCmd(log *slog.Logger) error {
	return withStore("migrate", func(ctx context.Context, st *store.Store) error {
		if err := st.Migrate(ctx); err != nil {
			return err
		}
		v, err := st.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		log.Info("migrated", "version", v)
		return nil
	})
}

// withStore runs a command's work against DATABASE_URL.
func withStore(cmd string, fn func(ctx context.Context, st *store.Store) error) error {
	cfg, err := mustConfig()
	if err != nil {
		return err
	}
	dsn := cfg.DatabaseURL
	if dsn == "" {
		return fmt.Errorf("%s: DATABASE_URL is not set", cmd)
	}
	ctx := context.Background()
	st, err := openStore(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, st)
}

// trustedProxies parses FAMILYLINKS_TRUSTED_PROXIES. An entry that is not
// an IP or CIDR is an error rather than silently trusting nobody, and a
// prefix covering every address is refused: then anyone could name their
// own address in X-Real-IP and escape every rate limit.
func trustedProxies(v string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(p); err == nil {
			if pre.Bits() == 0 {
				return nil, fmt.Errorf("FAMILYLINKS_TRUSTED_PROXIES: %q trusts every address; list the proxy's own addresses", p)
			}
		} else if _, err := netip.ParseAddr(p); err != nil {
			return nil, fmt.Errorf("FAMILYLINKS_TRUSTED_PROXIES: %q is neither an IP nor a CIDR", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// setHitSecret keys the rate-limit counters (store/ratelimit.go) with a
// secret every replica derives alike from the data key. Rotating the data
// key only makes the counters start afresh.
func setHitSecret(st *store.Store, keys *crypt.Keyring) {
	st.SetHitSecret(keys.Derive("rate-limit keys"))
}

// startCleanup runs the store's cleanup (rate-limit counters, expired
// sessions, handled outbox messages, audit addresses past
// FAMILYLINKS_AUDIT_ADDRESS_DAYS) beside the outbox worker until ctx
// ends; the channel closes when it has stopped.
func startCleanup(ctx context.Context, st *store.Store, auditAddrDays, auditKeepDays int, log *slog.Logger) (<-chan struct{}, error) {
	const day = 24 * time.Hour
	c := &store.Cleanup{Store: st, Log: log, AuditAddressKeep: time.Duration(auditAddrDays) * day, AuditKeep: time.Duration(auditKeepDays) * day}
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	return done, nil
}

// pathsCmd prints every path the router registers for GET, sorted: what
// probes and proxies may point at (the Kubernetes check reads it).
func pathsCmd(w io.Writer, log *slog.Logger) error {
	data, cat, err := load(log)
	if err != nil {
		return err
	}
	app, err := site.New(site.Config{BaseURL: "http://localhost"}, site.Deps{Content: data, Catalog: cat, Log: log})
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var paths []string
	for _, r := range app.GetRoutes(true) {
		if r.Method == "GET" && !seen[r.Path] {
			seen[r.Path] = true
			paths = append(paths, r.Path)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintln(w, p)
	}
	return nil
}
