// Command chaos is the fault-injection run behind `make chaos`: the whole
// stack under a mixed load while its parts fail one after the other.
//
// It starts a throw-away PostgreSQL and Meilisearch through devstack,
// migrates, publishes demo gallery entries and builds the index, starts the
// site binary (var/bin/familylinks serve) as a child, and runs concurrent
// clients for -duration: country pages, gallery searches with filters, photo
// pages and their images, and the contact form (GET for the CSRF cookie and
// token, POST, then the confirmation page), in the ten languages. A
// publisher publishes and withdraws gallery entries meanwhile, so that the
// outbox has index work to do through every fault. While the load runs:
//
//  1. Meilisearch is killed (SIGKILL, or SIGTERM with -meili-signal term),
//     left down for -meili-down, and started again on the same port and data;
//  2. PostgreSQL is stopped (pg_ctl -m fast), left down for -pg-down, and
//     started again;
//  3. the site is sent SIGTERM in the middle of requests (its graceful
//     shutdown should finish them) and started again once it has exited.
//
// Afterwards it lets the outbox drain and reports requests and errors per
// request kind and per fault window, what was expected and what was not,
// the time each kind and /readyz took to recover, whether the gallery kept
// answering from PostgreSQL while Meilisearch was down, every acknowledged
// enquiry that PostgreSQL lacks, and whether `familylinks check-index` finds
// the index equal to PostgreSQL.
//
// Exit status: 0 when no acknowledged enquiry is missing, the index matches
// PostgreSQL within -drain-timeout and every fault went as planned (with
// -strict, also no unexpected client error); 1 otherwise; 2 on a setup error.
// Logs go to var/chaos/<time>/ (var/chaos/latest points at the last run).
//
// Usage: bash deploy/bench/chaos.sh [flags]   (go run ./deploy/bench/chaos -h)
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/deploy/bench/benchkit"
	"github.com/familylinks/familylinks/internal/devstack"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/store"
	"github.com/jackc/pgx/v5"
)

type config struct {
	bin          string
	out          string
	workers      int
	duration     time.Duration
	timeout      time.Duration
	entries      int
	publishEvery time.Duration
	meiliAt      time.Duration
	meiliDown    time.Duration
	meiliSignal  string
	pgAt         time.Duration
	pgDown       time.Duration
	pgMode       string
	siteAt       time.Duration
	grace        time.Duration
	drainTimeout time.Duration
	strict       bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "bin", "var/bin/familylinks", "the site binary")
	flag.StringVar(&cfg.out, "out", "var/chaos", "where each run's logs and summary go (a subdirectory per run)")
	flag.IntVar(&cfg.workers, "workers", 16, "concurrent clients, each with its own cookie jar")
	flag.DurationVar(&cfg.duration, "duration", 60*time.Second, "how long the load runs")
	flag.DurationVar(&cfg.timeout, "timeout", 8*time.Second, "per-request timeout of the clients")
	flag.IntVar(&cfg.entries, "entries", 40, "published demo gallery entries before the load")
	flag.DurationVar(&cfg.publishEvery, "publish-every", 2*time.Second, "the publisher publishes an entry, and withdraws one every other time, this often (0: off)")
	flag.DurationVar(&cfg.meiliAt, "meili-at", 8*time.Second, "when Meilisearch is stopped (0: never)")
	flag.DurationVar(&cfg.meiliDown, "meili-down", 10*time.Second, "how long Meilisearch stays down")
	flag.StringVar(&cfg.meiliSignal, "meili-signal", "kill", "how Meilisearch fails: kill (SIGKILL), term (SIGTERM), or stop (SIGSTOP: it hangs, then SIGCONT)")
	flag.DurationVar(&cfg.pgAt, "pg-at", 28*time.Second, "when PostgreSQL is stopped (0: never)")
	flag.DurationVar(&cfg.pgDown, "pg-down", 2*time.Second, "how long PostgreSQL stays down between stop and start")
	flag.StringVar(&cfg.pgMode, "pg-mode", "fast", "pg_ctl stop mode: smart, fast or immediate")
	flag.DurationVar(&cfg.siteAt, "site-at", 44*time.Second, "when the site is sent SIGTERM and restarted (0: never)")
	flag.DurationVar(&cfg.grace, "grace", 5*time.Second, "after an engine or the site is back, how long its errors still count as expected")
	flag.DurationVar(&cfg.drainTimeout, "drain-timeout", 3*time.Minute, "how long the outbox may take to drain and the index to match PostgreSQL after the load")
	flag.BoolVar(&cfg.strict, "strict", false, "also fail on unexpected client errors")
	flag.Parse()
	if cfg.workers < 1 || cfg.duration <= 0 || !slices.Contains([]string{"kill", "term", "stop"}, cfg.meiliSignal) {
		fmt.Fprintln(os.Stderr, "chaos: need -workers >= 1, -duration > 0, -meili-signal kill|term|stop")
		os.Exit(2)
	}
	var prev time.Duration
	for _, at := range []time.Duration{cfg.meiliAt, cfg.pgAt, cfg.siteAt} {
		if at == 0 {
			continue
		}
		if at <= prev || at >= cfg.duration {
			fmt.Fprintln(os.Stderr, "chaos: the faults must come in order (-meili-at < -pg-at < -site-at) inside -duration")
			os.Exit(2)
		}
		prev = at
	}
	code, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		if code == 0 {
			code = 2
		}
	}
	os.Exit(code)
}

// Fault names, also the names of their windows.
const (
	winSteady = "steady"
	winMeili  = "meilisearch"
	winPG     = "postgresql"
	winSite   = "site"
)

// Request kinds.
const (
	kCountry = "country"
	kGallery = "gallery"
	kPhoto   = "photo"
	kMedia   = "media"
	kForm    = "form"
	kPost    = "post"
	kSent    = "sent"
)

var kinds = []string{kCountry, kGallery, kPhoto, kMedia, kForm, kPost, kSent}

// needsPG: the kinds PostgreSQL answers (country pages and the form do not
// touch it).
var needsPG = map[string]bool{kGallery: true, kPhoto: true, kMedia: true, kPost: true, kSent: true}

var langs = []string{"en", "fr", "es", "ar", "prs", "ps", "so", "ru", "uk", "ti"}

type event struct {
	at  time.Duration
	msg string
}

// fault is one injected fault and what happened to it.
type fault struct {
	name     string
	how      string
	at       time.Duration // injected
	exited   time.Duration // site: the old process had exited
	restored time.Duration // the engine or the site answered again
	end      time.Duration // its window ends: the next fault or the end of the load
	err      error
}

func run(cfg config) (code int, err error) {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return 2, err
	}
	if _, err := os.Stat(bin); err != nil {
		return 2, fmt.Errorf("%s: %w (build it: go build -o var/bin/familylinks ./cmd/familylinks)", cfg.bin, err)
	}
	outDir, err := filepath.Abs(filepath.Join(cfg.out, time.Now().Format("20060102-150405")))
	if err != nil {
		return 2, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return 2, err
	}
	latest := filepath.Join(filepath.Dir(outDir), "latest")
	_ = os.Remove(latest)
	_ = os.Symlink(filepath.Base(outDir), latest)

	work, err := os.MkdirTemp("", "familylinks-chaos-")
	if err != nil {
		return 2, err
	}
	defer os.RemoveAll(work)
	if err := os.Chmod(work, 0o755); err != nil { // the postgres user must get through it
		return 2, err
	}

	evLog, err := os.Create(filepath.Join(outDir, "events.log"))
	if err != nil {
		return 2, err
	}
	defer evLog.Close()
	var evMu sync.Mutex
	var events []event
	var loadStart time.Time // set once before the load; read-only after
	logf := func(format string, a ...any) {
		evMu.Lock()
		defer evMu.Unlock()
		msg := fmt.Sprintf(format, a...)
		var at time.Duration
		stamp := "setup"
		if !loadStart.IsZero() {
			at = time.Since(loadStart)
			stamp = fmt.Sprintf("%6.2fs", at.Seconds())
			events = append(events, event{at, msg})
		}
		line := fmt.Sprintf("chaos %s %s\n", stamp, msg)
		fmt.Fprint(os.Stderr, line)
		fmt.Fprint(evLog, line)
	}

	// 1. Engines.
	t0 := time.Now()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	stack, err := devstack.Start(ctx, devstack.Options{Dir: work, Log: quiet})
	if err != nil {
		return 2, fmt.Errorf("starting the engines: %w", err)
	}
	var pidsMu sync.Mutex
	pids := map[string]int{"meili": stack.MeiliPID()}
	writePids := func() {
		// For the script's trap, should this process die without cleaning
		// up: what to stop, by process id and data directory.
		pidsMu.Lock()
		defer pidsMu.Unlock()
		var b strings.Builder
		for _, k := range []string{"site", "meili"} {
			if pids[k] > 0 {
				fmt.Fprintf(&b, "%s %d\n", k, pids[k])
			}
		}
		fmt.Fprintf(&b, "pgdata %s\nwork %s\n", filepath.Join(filepath.Dir(stack.PostgresLog()), "pg"), work)
		_ = os.WriteFile(filepath.Join(outDir, "pids"), []byte(b.String()), 0o644)
	}
	writePids()
	defer func() {
		copyFile(stack.PostgresLog(), filepath.Join(outDir, "pg.log"))
		copyFile(stack.MeiliLog(), filepath.Join(outDir, "meili.log"))
		if serr := stack.Stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the engines: %w", serr))
		}
		_ = os.Remove(filepath.Join(outDir, "pids"))
	}()
	logf("PostgreSQL and Meilisearch up in %s (%s, %s)", time.Since(t0).Round(time.Millisecond), stack.DatabaseURL, stack.MeiliURL)

	// 2. Schema, keys, gallery entries and the index.
	port, err := benchkit.FreePort()
	if err != nil {
		return 2, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	base := "http://" + addr
	env := append(benchkit.WithoutFamilyLinksEnv(),
		"DATABASE_URL="+stack.DatabaseURL,
		"MEILI_URL="+stack.MeiliURL,
		"MEILI_API_KEY="+stack.MeiliKey,
		"FAMILYLINKS_ADDR="+addr,
		"FAMILYLINKS_TRUSTED_PROXIES=127.0.0.1",
		"FAMILYLINKS_LOG_LEVEL=warn",
	)
	env, key, err := benchkit.WithKeys(bin, work, env)
	if err != nil {
		return 2, err
	}
	keys, err := crypt.Parse(key)
	if err != nil {
		return 2, err
	}
	if _, err := benchkit.Tool(bin, work, env, "", "migrate"); err != nil {
		return 2, err
	}
	if _, err := benchkit.Tool(bin, work, env, "", "staff", "add", "--email", "chaos@drk.example", "--society", "de", "--role", "caseworker"); err != nil {
		return 2, err
	}
	// The throw-away cluster runs with synchronous_commit off for speed; a
	// commit acknowledged then could vanish in a PostgreSQL crash
	// (-pg-mode immediate), which production does not allow. On for this
	// database, as in production: fsync stays off, which only an OS crash
	// would show.
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(sctx, stack.DatabaseURL)
	if err != nil {
		return 2, err
	}
	_, err = conn.Exec(sctx, `ALTER DATABASE familylinks SET synchronous_commit = on`)
	conn.Close(sctx)
	if err != nil {
		return 2, err
	}
	st, err := store.Open(sctx, stack.DatabaseURL)
	if err != nil {
		return 2, err
	}
	var pgSettings string
	if err := st.Pool().QueryRow(sctx, `SELECT 'fsync=' || current_setting('fsync') || ' synchronous_commit=' || current_setting('synchronous_commit')`).Scan(&pgSettings); err != nil {
		return 2, err
	}
	defer st.Close()
	t1 := time.Now()
	if _, err := gallery.SeedDemo(ctx, st, keys, cfg.entries); err != nil {
		return 2, fmt.Errorf("seeding the gallery: %w", err)
	}
	stable, err := publishedRefs(ctx, st)
	if err != nil || len(stable) == 0 {
		return 2, fmt.Errorf("no published entry after seeding: %v", err)
	}
	// The seed's outbox rows are covered by the reindex: mark them done so
	// that the drain afterwards measures only what the run itself queued.
	if _, err := st.Pool().Exec(ctx, `UPDATE outbox SET done_at = now() WHERE done_at IS NULL`); err != nil {
		return 2, err
	}
	if _, err := benchkit.Tool(bin, work, env, "", "reindex"); err != nil {
		return 2, err
	}
	logf("%d demo entries published and indexed in %s", len(stable), time.Since(t1).Round(time.Millisecond))
	data, err := content.Load()
	if err != nil {
		return 2, err
	}
	var isos, residences []string
	for _, c := range data.Countries {
		isos = append(isos, c.ISO2)
		if c.Society != nil {
			residences = append(residences, c.ISO2)
		}
	}

	// 3. The site.
	siteLogPath := filepath.Join(outDir, "site.log")
	siteLog, err := os.Create(siteLogPath)
	if err != nil {
		return 2, err
	}
	defer siteLog.Close()
	var sitesMu sync.Mutex
	var sites []*benchkit.Site
	currentSite := func() *benchkit.Site {
		sitesMu.Lock()
		defer sitesMu.Unlock()
		return sites[len(sites)-1]
	}
	startSite := func() (*benchkit.Site, error) {
		s, err := benchkit.StartSite(bin, env, work, siteLog)
		if err != nil {
			return nil, err
		}
		sitesMu.Lock()
		sites = append(sites, s)
		sitesMu.Unlock()
		pidsMu.Lock()
		pids["site"] = s.Cmd.Process.Pid
		pidsMu.Unlock()
		writePids()
		return s, nil
	}
	defer func() {
		sitesMu.Lock()
		defer sitesMu.Unlock()
		for _, s := range sites {
			s.Stop()
		}
	}()
	first, err := startSite()
	if err != nil {
		return 2, err
	}
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = benchkit.WaitHealthy(hctx, first, base, 5*time.Millisecond)
	cancel()
	if err != nil {
		return 2, fmt.Errorf("the site did not start: %w%s", err, benchkit.Tail(siteLogPath))
	}
	logf("site up on %s", addr)
	if err := waitReady(ctx, base, 30*time.Second); err != nil {
		return 2, fmt.Errorf("the site never reported ready: %w%s", err, benchkit.Tail(siteLogPath))
	}

	// 4. Clients, checked once before the load: a page the site refuses is
	// a setup error, not a result.
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.workers,
		MaxIdleConnsPerHost: cfg.workers,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	shared := &shared{base: base, isos: isos, residences: residences, stable: stable}
	workers := make([]*worker, cfg.workers)
	for i := range workers {
		jar, _ := cookiejar.New(nil)
		workers[i] = &worker{
			id: i, shared: shared,
			rnd: rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano()))),
			hc: &http.Client{Transport: transport, Jar: jar, Timeout: cfg.timeout,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
			recs: make([]rec, 0, 4096),
		}
	}
	workers[0].start = time.Now()
	for _, k := range kinds[:4] {
		if r := workers[0].once(ctx, k); r.fail != "" {
			return 2, fmt.Errorf("a first %s request failed: %s %s%s", k, r.fail, r.detail, benchkit.Tail(siteLogPath))
		}
	}
	if r := workers[0].contact(ctx); r.fail != "" {
		return 2, fmt.Errorf("a first enquiry failed: %s %s%s", r.fail, r.detail, benchkit.Tail(siteLogPath))
	}
	warmAcks := workers[0].acks
	workers[0].recs, workers[0].acks, workers[0].confirmed = workers[0].recs[:0], nil, nil

	// 5. Load, readiness probe, publisher and faults.
	cpu0 := benchkit.MachineCPU()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadStart = time.Now()
	deadline := loadStart.Add(cfg.duration)
	var wg sync.WaitGroup
	for _, w := range workers {
		w.start = loadStart
		wg.Go(func() { w.loop(loadCtx, deadline) })
	}
	probe := &readyProbe{base: base, start: loadStart}
	var aux sync.WaitGroup
	aux.Go(func() { probe.run(loadCtx, deadline) })
	pub := &publisher{st: st, keys: keys, stable: stable, start: loadStart}
	if cfg.publishEvery > 0 {
		aux.Go(func() { pub.run(loadCtx, deadline, cfg.publishEvery) })
	}

	var faults []*fault
	if cfg.meiliAt > 0 {
		how := map[string]string{
			"kill": "SIGKILL, down %s, started again on the same port and data",
			"term": "SIGTERM, down %s, started again on the same port and data",
			"stop": "SIGSTOP, hung for %s, then SIGCONT",
		}[cfg.meiliSignal]
		faults = append(faults, &fault{name: winMeili, at: cfg.meiliAt, how: fmt.Sprintf(how, cfg.meiliDown)})
	}
	if cfg.pgAt > 0 {
		faults = append(faults, &fault{name: winPG, at: cfg.pgAt, how: fmt.Sprintf("pg_ctl stop -m %s, down %s, pg_ctl start", cfg.pgMode, cfg.pgDown)})
	}
	if cfg.siteAt > 0 {
		faults = append(faults, &fault{name: winSite, at: cfg.siteAt, how: "SIGTERM under load (graceful shutdown), started again once it exited"})
	}
	faultsDone := make(chan struct{})
	go func() {
		defer close(faultsDone)
		for _, f := range faults {
			select {
			case <-time.After(time.Until(loadStart.Add(f.at))):
			case <-loadCtx.Done():
				return
			}
			f.at = time.Since(loadStart)
			switch f.name {
			case winMeili:
				logf("FAULT meilisearch: %s (pid %d)", strings.Trim(strings.Fields(f.how)[0], ","), stack.MeiliPID())
				if cfg.meiliSignal == "stop" {
					pid := stack.MeiliPID()
					if f.err = syscall.Kill(pid, syscall.SIGSTOP); f.err != nil {
						continue
					}
					f.exited = time.Since(loadStart)
					select {
					case <-time.After(cfg.meiliDown):
					case <-loadCtx.Done():
					}
					if f.err = syscall.Kill(pid, syscall.SIGCONT); f.err != nil {
						continue
					}
					f.restored = time.Since(loadStart)
					logf("meilisearch: SIGCONT")
					continue
				}
				if f.err = stack.StopMeili(cfg.meiliSignal == "kill"); f.err != nil {
					logf("meilisearch: stop failed: %v", f.err)
					continue
				}
				f.exited = time.Since(loadStart)
				logf("meilisearch: stopped")
				select {
				case <-time.After(cfg.meiliDown):
				case <-loadCtx.Done():
				}
				mctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				f.err = stack.StartMeili(mctx)
				cancel()
				if f.err != nil {
					logf("meilisearch: start failed: %v", f.err)
					continue
				}
				f.restored = time.Since(loadStart)
				pidsMu.Lock()
				pids["meili"] = stack.MeiliPID()
				pidsMu.Unlock()
				writePids()
				logf("meilisearch: started again and healthy (pid %d)", stack.MeiliPID())
			case winPG:
				logf("FAULT postgresql: pg_ctl stop -m %s", cfg.pgMode)
				if f.err = stack.StopPostgres(cfg.pgMode); f.err != nil {
					logf("postgresql: stop failed: %v", f.err)
					continue
				}
				f.exited = time.Since(loadStart)
				logf("postgresql: stopped")
				select {
				case <-time.After(cfg.pgDown):
				case <-loadCtx.Done():
				}
				if f.err = stack.StartPostgres(); f.err != nil {
					logf("postgresql: start failed: %v", f.err)
					continue
				}
				f.restored = time.Since(loadStart)
				logf("postgresql: started again, accepting connections")
			case winSite:
				old := currentSite()
				logf("FAULT site: SIGTERM (pid %d), %d requests in flight", old.Cmd.Process.Pid, inFlight.Load())
				if f.err = old.Cmd.Process.Signal(syscall.SIGTERM); f.err != nil {
					continue
				}
				select {
				case <-old.Done():
				case <-time.After(30 * time.Second):
					f.err = errors.New("the site did not exit within 30 s of SIGTERM")
					logf("site: %v; killing it", f.err)
					old.Stop()
				}
				f.exited = time.Since(loadStart)
				logf("site: exited (%v) %s after SIGTERM", exitText(old.Err()), ms(f.exited-f.at))
				s, err := startSite()
				if err != nil {
					f.err = errors.Join(f.err, fmt.Errorf("restarting: %w", err))
					continue
				}
				hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				err = benchkit.WaitHealthy(hctx, s, base, 2*time.Millisecond)
				cancel()
				if err != nil {
					f.err = errors.Join(f.err, fmt.Errorf("the restarted site did not answer: %w", err))
					logf("site: %v", f.err)
					continue
				}
				f.restored = time.Since(loadStart)
				logf("site: new process (pid %d) answers /healthz", s.Cmd.Process.Pid)
			}
		}
	}()
	wg.Wait()
	elapsed := time.Since(loadStart)
	stopLoad()
	aux.Wait()
	<-faultsDone
	cpu1 := benchkit.MachineCPU()
	logf("load stopped")
	if ctx.Err() != nil {
		return 130, errors.New("interrupted")
	}
	for i, f := range faults {
		f.end = elapsed
		if i+1 < len(faults) {
			f.end = faults[i+1].at
		}
	}

	// 6. Let the outbox drain, then compare the index with PostgreSQL.
	idx := checkIndex(ctx, st, bin, work, env, cfg.drainTimeout, loadStart)
	logf("index: %s", idx.summary())
	slowest, err := outboxReport(ctx, st, loadStart, filepath.Join(outDir, "outbox.csv"))
	if err != nil {
		slowest = "unknown: " + err.Error()
	}

	// 7. What PostgreSQL holds.
	qctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	rows, _ := st.Pool().Query(qctx, `SELECT reference FROM enquiries`)
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 2, fmt.Errorf("reading the references: %w", err)
	}
	currentSite().Stop()

	// 8. Report.
	r := collect(workers, warmAcks)
	storedSet := make(map[string]bool, len(stored))
	for _, ref := range stored {
		storedSet[ref] = true
	}
	var missing, missingConfirmed []string
	for ref := range r.acked {
		if !storedSet[ref] {
			missing = append(missing, ref)
		}
	}
	for ref := range r.confirmed {
		if !storedSet[ref] {
			missingConfirmed = append(missingConfirmed, ref)
		}
	}
	slices.Sort(missing)
	unacked := 0
	for _, ref := range stored {
		if !r.acked[ref] {
			unacked++
		}
	}

	sum, err := os.Create(filepath.Join(outDir, "summary.txt"))
	if err != nil {
		return 2, err
	}
	defer sum.Close()
	w := bufio.NewWriter(io.MultiWriter(os.Stdout, sum))
	defer w.Flush()
	fmt.Fprintf(w, "\nchaos: %d clients for %s on %d cores (PostgreSQL, Meilisearch, the site and the clients share them; machine %s busy)\n",
		cfg.workers, elapsed.Round(time.Millisecond), runtime.NumCPU(), benchkit.Busy(cpu1, cpu0))
	fmt.Fprintf(w, "PostgreSQL: throw-away cluster, %s (on for this database, as in production)\n", pgSettings)
	fmt.Fprintf(w, "mix: country pages, gallery searches with filters, photo pages and their 320 px image, contact form GET+POST+confirmation; %d languages; a publisher publishing and withdrawing entries every %s\n",
		len(langs), cfg.publishEvery)
	fmt.Fprintf(w, "\nfaults\n")
	for _, f := range faults {
		status := "ok"
		if f.err != nil {
			status = "FAILED: " + f.err.Error()
		}
		back := "-"
		if f.restored > 0 {
			back = fmt.Sprintf("%.2fs", f.restored.Seconds())
		}
		fmt.Fprintf(w, "  %-12s at %6.2fs, back at %6s: %s (%s)\n", f.name, f.at.Seconds(), back, f.how, status)
		if f.name == winSite && f.exited > 0 {
			fmt.Fprintf(w, "  %-12s the old process exited %s after SIGTERM; the new one answered %s after SIGTERM\n", "", ms(f.exited-f.at), ms(f.restored-f.at))
		}
	}

	windows := windowsOf(faults, elapsed)
	fmt.Fprintf(w, "\nrequests per window (a request belongs to the window in which it ended)\n")
	fmt.Fprintf(w, "  %-12s %-13s %8s %8s %8s %8s %8s %6s %6s %9s %10s %8s\n", "window", "span", "requests", "ok", "refused", "closed", "timeout", "5xx", "other", "expected", "UNEXPECTED", "p99 ok")
	for _, win := range append(windows, span{name: "total", from: 0, to: elapsed + time.Hour}) {
		c := r.count(func(x *rec) bool { return x.end >= win.from && x.end < win.to }, faults, cfg.grace)
		spanText := fmt.Sprintf("%.1f-%.1fs", win.from.Seconds(), min(win.to, elapsed).Seconds())
		fmt.Fprintf(w, "  %-12s %-13s %8d %8d %8d %8d %8d %6d %6d %9d %10d %8s\n", win.name, spanText, c.n, c.ok,
			c.class["refused"], c.class["closed"], c.class["timeout"], c.class["5xx"], c.class["other"], c.expected, c.unexpected, ms(c.p99))
	}
	fmt.Fprintf(w, "\nrequests per kind, whole run\n")
	fmt.Fprintf(w, "  %-8s %8s %8s %8s %8s %8s %6s %6s %10s %8s\n", "kind", "requests", "ok", "refused", "closed", "timeout", "5xx", "other", "UNEXPECTED", "p99 ok")
	for _, k := range kinds {
		c := r.count(func(x *rec) bool { return x.kind == k }, faults, cfg.grace)
		fmt.Fprintf(w, "  %-8s %8d %8d %8d %8d %8d %6d %6d %10d %8s\n", k, c.n, c.ok, c.class["refused"], c.class["closed"], c.class["timeout"], c.class["5xx"], c.class["other"], c.unexpected, ms(c.p99))
	}
	fmt.Fprintf(w, "  expected: connection errors from SIGTERM until %s after the new site answers; 5xx and timeouts of the PostgreSQL kinds (%s) from the stop until %s after the start.\n",
		cfg.grace, strings.Join(sortedKeys(needsPG), ", "), cfg.grace)
	fmt.Fprintf(w, "  everything else is UNEXPECTED, including any error while Meilisearch is down. closed = connection reset or closed (EOF).\n")

	fmt.Fprintf(w, "\nrecovery, in seconds after each fault was injected (first OK: of a request sent once the engine or the old site was down;\n")
	fmt.Fprintf(w, "for the gallery in the Meilisearch window, the first answer from Meilisearch again, not a degraded one)\n")
	fmt.Fprintf(w, "  %-12s %-8s %7s %8s %9s %9s\n", "fault", "kind", "errors", "last err", "first OK", "requests")
	for _, f := range faults {
		fmt.Fprintf(w, "  %-12s down at %s, back at %s\n", f.name, secs(f.exited-f.at), secs(f.restored-f.at))
		for _, k := range kinds {
			rc := r.recovery(f, k)
			fmt.Fprintf(w, "  %-12s %-8s %7d %8s %9s %9d\n", f.name, k, rc.errors, secs(rc.lastErr), secs(rc.firstOK), rc.n)
		}
		fmt.Fprintf(w, "  %-12s %-8s %s\n", f.name, "/readyz", probe.recovery(f))
	}
	if f := faultNamed(faults, winMeili); f != nil && f.restored > 0 {
		g := r.count(func(x *rec) bool { return x.kind == kGallery && x.start >= f.exited && x.end <= f.restored }, nil, 0)
		deg := 0
		for _, x := range r.all {
			if x.kind == kGallery && x.fail == "" && x.degraded && x.start >= f.exited && x.end <= f.restored {
				deg++
			}
		}
		verdict := "YES"
		if g.ok < g.n || g.n == 0 {
			verdict = "NO"
		}
		fmt.Fprintf(w, "\ngallery while Meilisearch was down (%.2fs-%.2fs): kept answering: %s: %d requests, %d OK, %d of them degraded (answered from PostgreSQL), %d errors\n",
			f.exited.Seconds(), f.restored.Seconds(), verdict, g.n, g.ok, deg, g.n-g.ok)
	}
	if f := faultNamed(faults, winSite); f != nil && f.err == nil {
		inflight := r.count(func(x *rec) bool { return x.start < f.at && x.end > f.at }, nil, 0)
		fmt.Fprintf(w, "requests in flight when SIGTERM reached the site: %d, of which %d finished OK (graceful shutdown)", inflight.n, inflight.ok)
		if inflight.n > inflight.ok {
			fmt.Fprintf(w, "; failed: %s (refused: sent just as the listener closed, never reached the site)", classText(inflight.class))
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "\npublisher (direct store calls, as a caseworker's approval and withdrawal would): %s\n", pub.summary(windows))
	fmt.Fprintf(w, "readyz states seen (every 100 ms, 5 s timeout as the Kubernetes probe): %s\n", probe.summary(windows))

	fmt.Fprintf(w, "\ndurability check against PostgreSQL\n")
	fmt.Fprintf(w, "  acknowledged enquiries (303 + fl_sent)  %d distinct", len(r.acked))
	if r.dupAcks > 0 {
		fmt.Fprintf(w, "; %d DUPLICATE acknowledgements", r.dupAcks)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  shown on the confirmation page          %d (%d confirmation pages without the reference)\n", len(r.confirmed), r.sentWithoutRef)
	fmt.Fprintf(w, "  refused with a 5xx                      %d, of which %d came back as the form with everything typed, %d lost the input\n", r.postKept+r.postLost, r.postKept, r.postLost)
	fmt.Fprintf(w, "  stored enquiries                        %d\n", len(stored))
	fmt.Fprintf(w, "  acknowledged but missing                %d (must be 0)\n", len(missing))
	fmt.Fprintf(w, "  stored but unacknowledged               %d (the answer was lost: site stopped, timeout, or an error after the commit)\n", unacked)
	fmt.Fprintf(w, "\nindex check after the run: %s\n", idx.summary())
	fmt.Fprintf(w, "outbox messages of the run, the slowest to be done: %s\n", slowest)
	fmt.Fprintf(w, "\nper second (ok / errors):\n  ok   %s\n  err  %s\n", r.timeline(elapsed, true), r.timeline(elapsed, false))
	fmt.Fprintf(w, "\nsite log (level warn, every process): %s\n", benchkit.SummarizeLog(siteLogPath))
	fmt.Fprintf(w, "logs: %s (events.log, site.log, pg.log, meili.log, requests.csv, summary.txt)\n", outDir)
	if err := r.writeCSV(filepath.Join(outDir, "requests.csv")); err != nil {
		fmt.Fprintf(w, "requests.csv: %v\n", err)
	}

	total := r.count(func(*rec) bool { return true }, faults, cfg.grace)
	var fails []string
	if len(missing) > 0 {
		fails = append(fails, fmt.Sprintf("%d acknowledged enquiries are not in PostgreSQL, e.g. %s", len(missing), strings.Join(missing[:min(len(missing), 10)], " ")))
	}
	if len(missingConfirmed) > 0 {
		fails = append(fails, fmt.Sprintf("%d enquiries shown on a confirmation page are not in PostgreSQL", len(missingConfirmed)))
	}
	if len(r.acked) == 0 {
		fails = append(fails, "no enquiry was acknowledged")
	}
	if !idx.matched {
		fails = append(fails, "the index does not match PostgreSQL: "+idx.summary())
	}
	for _, f := range faults {
		if f.err != nil {
			fails = append(fails, fmt.Sprintf("the %s fault did not go as planned: %v", f.name, f.err))
		}
	}
	if cfg.strict && total.unexpected > 0 {
		fails = append(fails, fmt.Sprintf("%d unexpected client errors (-strict)", total.unexpected))
	}
	if cfg.strict && r.postLost > 0 {
		fails = append(fails, fmt.Sprintf("%d refused contact forms lost what was typed (-strict)", r.postLost))
	}
	if len(fails) > 0 {
		fmt.Fprintf(w, "\nFAIL:\n  %s\n", strings.Join(fails, "\n  "))
		return 1, nil
	}
	note := ""
	if total.unexpected > 0 {
		note = fmt.Sprintf(" (%d unexpected client errors, listed above; -strict fails on them)", total.unexpected)
	}
	fmt.Fprintf(w, "\nOK: every acknowledged enquiry is in PostgreSQL and the index matches it%s\n", note)
	return 0, nil
}

// --- clients ---

type shared struct {
	base       string
	isos       []string
	residences []string
	stable     []string // published refs the publisher never withdraws
}

// rec is one request.
type rec struct {
	kind       string
	start, end time.Duration // since the load started
	status     int           // 0: no response
	fail       string        // "": OK; else refused, closed, timeout, 5xx or other
	detail     string
	degraded   bool // a gallery page answered from PostgreSQL
}

type worker struct {
	id        int
	shared    *shared
	rnd       *rand.Rand
	hc        *http.Client
	start     time.Time
	recs      []rec
	acks      []string
	confirmed []string
	sentNoRef int
	postKept  int // POSTs refused with a 5xx whose form came back filled in
	postLost  int // ... and those that lost what was typed
}

var inFlight atomic.Int64

// ipSeq numbers requests; each gets its own X-Real-IP in 100.64.0.0/10, so
// that the site's per-address limits do not shape the load.
var ipSeq atomic.Uint32

func nextIP() string {
	n := (ipSeq.Add(1) * 2654435761) & (1<<22 - 1)
	return fmt.Sprintf("100.%d.%d.%d", 64+n>>16, n>>8&255, n&255)
}

func (w *worker) pick(list []string) string { return list[w.rnd.IntN(len(list))] }

// do sends one request and records it; check judges a response (nil: any
// 200 is fine).
func (w *worker) do(ctx context.Context, kind, method, path string, form url.Values, check func(*http.Response, []byte) (fail, detail string)) (rec, *http.Response, []byte) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequestWithContext(ctx, method, w.shared.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Real-IP", nextIP())
	t := time.Now()
	inFlight.Add(1)
	resp, err := w.hc.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
	}
	inFlight.Add(-1)
	r := rec{kind: kind, start: t.Sub(w.start), end: time.Since(w.start)}
	switch {
	case err != nil:
		r.fail, r.detail = classify(err)
	default:
		r.status = resp.StatusCode
		switch {
		case resp.StatusCode >= 500:
			r.fail, r.detail = "5xx", strconv.Itoa(resp.StatusCode)
		case check != nil:
			r.fail, r.detail = check(resp, b)
		case resp.StatusCode != http.StatusOK:
			r.fail, r.detail = "other", "status "+strconv.Itoa(resp.StatusCode)
		}
	}
	if ctx.Err() != nil && r.fail != "" {
		return r, nil, nil // the load ended under it: not a result
	}
	if kind == kGallery && r.fail == "" && strings.Contains(string(b), degradedMarker) {
		r.degraded = true
	}
	w.recs = append(w.recs, r)
	if err != nil {
		return r, nil, nil
	}
	return r, resp, b
}

const degradedMarker = `<p class="banner" role="status">`

var (
	csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	sentRef   = regexp.MustCompile(`<p class="ref" dir="ltr">(?:<bdi>)?([^<]+)(?:</bdi>)?</p>`)
)

// once sends one request of a kind other than the contact form.
func (w *worker) once(ctx context.Context, kind string) rec {
	lang := w.pick(langs)
	switch kind {
	case kCountry:
		r, _, _ := w.do(ctx, kind, http.MethodGet, "/"+lang+"/countries/"+w.pick(w.shared.isos), nil, nil)
		return r
	case kGallery:
		r, _, _ := w.do(ctx, kind, http.MethodGet, "/"+lang+"/trace-the-face"+w.galleryQuery(), nil, nil)
		return r
	case kPhoto, kMedia:
		ref := w.pick(w.shared.stable)
		r, _, _ := w.do(ctx, kPhoto, http.MethodGet, "/"+lang+"/trace-the-face/"+ref, nil, nil)
		if r.fail != "" || kind == kPhoto && w.rnd.IntN(2) == 0 {
			return r
		}
		r, _, _ = w.do(ctx, kMedia, http.MethodGet, "/media/"+ref+"/320.jpg", nil, func(resp *http.Response, b []byte) (string, string) {
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/jpeg") || len(b) < 100 {
				return "other", fmt.Sprintf("status %d %s %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
			}
			return "", ""
		})
		return r
	}
	panic("unknown kind " + kind)
}

var (
	origins   = []string{"af", "sy", "so", "er", "ua", "sd", "ss", "ye", "iq", "cd", "et", "mm"}
	texts     = []string{"mother", "brother", "afghanistan", "somalia", "somlia", "sirya", "مادر", "mère"}
	relations = []string{"mother", "father", "brother", "sister", "son", "daughter"}
	circs     = []string{"migration", "conflict", "disaster", "detention"}
)

func (w *worker) galleryQuery() string {
	v := url.Values{}
	switch w.rnd.IntN(6) {
	case 0:
	case 1:
		v.Set("origin", w.pick(origins))
	case 2:
		v.Set("seeking", w.pick(vocab.Relationships.Codes()))
		v.Set("gender", w.pick(vocab.Genders.Codes()))
	case 3:
		v.Set("age", w.pick(vocab.AgeGroups.Codes()))
		v.Set("origin", w.pick(origins))
	case 4:
		v.Set("q", w.pick(texts))
	case 5:
		v.Set("q", w.pick(w.shared.stable))
	}
	if w.rnd.IntN(5) == 0 {
		v.Set("page", "2")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// contact fetches the form (CSRF cookie and token), posts an enquiry and
// reads the confirmation page. It returns the first failure, if any.
func (w *worker) contact(ctx context.Context) rec {
	lang := w.pick(langs)
	residence := w.pick(w.shared.residences)
	r, _, page := w.do(ctx, kForm, http.MethodGet, "/"+lang+"/contact?country="+residence, nil, func(resp *http.Response, b []byte) (string, string) {
		if resp.StatusCode != http.StatusOK || !csrfField.Match(b) {
			return "other", fmt.Sprintf("status %d, no _csrf field", resp.StatusCode)
		}
		return "", ""
	})
	if r.fail != "" {
		return r
	}
	token := string(csrfField.FindSubmatch(page)[1])
	n := len(w.recs)
	v := url.Values{}
	v.Set("_csrf", token)
	v.Set("residence", residence)
	v.Set("name", "Chaos Enquirer "+strconv.Itoa(w.id))
	v.Set("email", "chaos"+strconv.Itoa(w.id)+"@example.org")
	v.Set("phone", "+49 30 1234 "+strconv.Itoa(1000+n%9000))
	v.Set("lang", lang)
	v.Set("sought_name", "Sought Person "+strconv.Itoa(n))
	v.Set("sought_age", strconv.Itoa(20+n%60))
	v.Set("sought_place", "Tripoli")
	v.Set("lost_when", "2023")
	v.Set("relationship", w.pick(relations))
	v.Set("circumstance", w.pick(circs))
	v.Set("message", "We lost contact during the journey. Worker "+strconv.Itoa(w.id)+", request "+strconv.Itoa(n)+".")
	v.Set("consent", "yes")
	var ref string
	r, _, body := w.do(ctx, kPost, http.MethodPost, "/"+lang+"/contact", v, func(resp *http.Response, b []byte) (string, string) {
		if resp.StatusCode != http.StatusSeeOther {
			return "other", "status " + strconv.Itoa(resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); loc != "/"+lang+"/contact/sent" {
			return "other", "303 to " + loc
		}
		for _, c := range resp.Cookies() {
			if c.Name == "fl_sent" && c.Value != "" {
				ref = c.Value
			}
		}
		if ref == "" {
			return "other", "303 without fl_sent"
		}
		return "", ""
	})
	if r.fail == "5xx" {
		// A failure never loses input: the form must come back filled in.
		if strings.Contains(string(body), v.Get("message")+"</textarea>") && strings.Contains(string(body), `value="`+v.Get("sought_name")+`"`) {
			w.postKept++
		} else {
			w.postLost++
		}
	}
	if r.fail != "" {
		return r
	}
	w.acks = append(w.acks, ref)
	r, _, _ = w.do(ctx, kSent, http.MethodGet, "/"+lang+"/contact/sent", nil, func(resp *http.Response, b []byte) (string, string) {
		if resp.StatusCode != http.StatusOK {
			return "other", "status " + strconv.Itoa(resp.StatusCode)
		}
		m := sentRef.FindSubmatch(b)
		if m == nil {
			w.sentNoRef++
			return "other", "confirmation page without the reference"
		}
		if string(m[1]) != ref {
			return "other", "confirmation shows " + string(m[1]) + ", acknowledged " + ref
		}
		w.confirmed = append(w.confirmed, ref)
		return "", ""
	})
	return r
}

func (w *worker) loop(ctx context.Context, deadline time.Time) {
	for ctx.Err() == nil && time.Now().Before(deadline) {
		var r rec
		switch x := w.rnd.IntN(100); {
		case x < 30:
			r = w.once(ctx, kCountry)
		case x < 60:
			r = w.once(ctx, kGallery)
		case x < 75:
			r = w.once(ctx, kMedia)
		default:
			r = w.contact(ctx)
		}
		if r.status == 0 && r.fail != "" {
			// The site is down: retry soon without spinning on refusals.
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func classify(err error) (string, string) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused", "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "closed", "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed", "connection closed (EOF)"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout", "timeout"
	}
	return "other", err.Error()
}

// --- readiness probe ---

type readySample struct {
	at    time.Duration
	state string // ready, degraded, unavailable, down (no answer)
}

type readyProbe struct {
	base    string
	start   time.Time
	samples []readySample
}

func (p *readyProbe) run(ctx context.Context, deadline time.Time) {
	// 5 s, as the Kubernetes readiness probe waits (deploy/k8s).
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for ctx.Err() == nil && time.Now().Before(deadline) {
		state := readyState(ctx, c, p.base)
		if ctx.Err() != nil {
			return
		}
		p.samples = append(p.samples, readySample{time.Since(p.start), state})
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func readyState(ctx context.Context, c *http.Client, base string) string {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
	resp, err := c.Do(req)
	if err != nil {
		return "down"
	}
	defer resp.Body.Close()
	var body struct{ Status string }
	if json.NewDecoder(resp.Body).Decode(&body) != nil || body.Status == "" {
		return "status " + strconv.Itoa(resp.StatusCode)
	}
	return body.Status
}

func waitReady(ctx context.Context, base string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	c := &http.Client{Timeout: time.Second}
	for {
		if s := readyState(ctx, c, base); s == "ready" {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("/readyz: %s", s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recovery describes /readyz around a fault: what it said, and when it was
// ready again.
func (p *readyProbe) recovery(f *fault) string {
	counts := map[string]int{}
	var order []string
	lastBad, firstReadyAfter := time.Duration(-1), time.Duration(-1)
	for _, s := range p.samples {
		if s.at < f.at || s.at >= f.end {
			continue
		}
		if counts[s.state] == 0 {
			order = append(order, s.state)
		}
		counts[s.state]++
		if s.state != "ready" {
			lastBad, firstReadyAfter = s.at, -1
		} else if lastBad >= 0 && firstReadyAfter < 0 {
			firstReadyAfter = s.at
		}
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s %d", k, counts[k]))
	}
	seen := strings.Join(parts, ", ")
	switch {
	case lastBad < 0:
		return "stayed ready (" + seen + ")"
	case firstReadyAfter < 0:
		return "NOT ready again before the window ended (" + seen + ")"
	}
	return fmt.Sprintf("ready again at +%.2fs (%s)", (firstReadyAfter - f.at).Seconds(), seen)
}

func (p *readyProbe) summary(windows []span) string {
	var out []string
	for _, win := range windows {
		counts := map[string]int{}
		for _, s := range p.samples {
			if s.at >= win.from && s.at < win.to {
				counts[s.state]++
			}
		}
		out = append(out, win.name+": "+countText(counts))
	}
	return strings.Join(out, "; ")
}

// --- publisher ---

type pubOp struct {
	at   time.Duration
	op   string // publish, withdraw
	fail string
}

type publisher struct {
	st     *store.Store
	keys   *crypt.Keyring
	stable []string
	start  time.Time
	ops    []pubOp
}

func (p *publisher) run(ctx context.Context, deadline time.Time, every time.Duration) {
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
		if time.Now().After(deadline) {
			return
		}
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := gallery.SeedDemo(octx, p.st, p.keys, 1)
		p.record("publish", err)
		if i%2 == 1 {
			var id int64
			err := p.st.Pool().QueryRow(octx, `SELECT id FROM gallery_entries WHERE status = 'published' AND ref <> ALL($1) ORDER BY random() LIMIT 1`, p.stable).Scan(&id)
			if err == nil {
				err = p.st.WithdrawGalleryEntry(octx, id, "other")
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				p.record("withdraw", err)
			}
		}
		cancel()
	}
}

func (p *publisher) record(op string, err error) {
	o := pubOp{at: time.Since(p.start), op: op}
	if err != nil {
		o.fail = err.Error()
	}
	p.ops = append(p.ops, o)
}

func (p *publisher) summary(windows []span) string {
	var out []string
	for _, win := range windows {
		n, failed := 0, 0
		var example string
		for _, o := range p.ops {
			if o.at >= win.from && o.at < win.to {
				n++
				if o.fail != "" {
					failed++
					example = o.fail
				}
			}
		}
		s := fmt.Sprintf("%s %d ops, %d failed", win.name, n, failed)
		if example != "" {
			if len(example) > 80 {
				example = example[:80] + "…"
			}
			s += fmt.Sprintf(" (%q)", example)
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// --- index check ---

type indexResult struct {
	matched   bool
	drained   time.Duration // after the end of the load, until the outbox was empty (-1: never)
	matchedIn time.Duration // after the end of the load, until check-index agreed
	pending   int64
	last      string
}

func (x indexResult) summary() string {
	if !x.matched {
		return fmt.Sprintf("NO MATCH (outbox pending %d): %s", x.pending, x.last)
	}
	drain := "at once"
	if x.drained > 0 {
		drain = "in " + x.drained.Round(10*time.Millisecond).String()
	}
	return fmt.Sprintf("matches PostgreSQL %s after the load (outbox drained %s): %s", x.matchedIn.Round(10*time.Millisecond), drain, x.last)
}

// checkIndex waits for the outbox to drain and `familylinks check-index`
// to agree, up to limit.
func checkIndex(ctx context.Context, st *store.Store, bin, dir string, env []string, limit time.Duration, loadStart time.Time) indexResult {
	t0 := time.Now()
	res := indexResult{drained: -1}
	for {
		pending, _, err := st.OutboxStats(ctx)
		res.pending = pending
		if err == nil && pending == 0 && res.drained < 0 {
			res.drained = time.Since(t0)
		}
		if err == nil && pending == 0 {
			out, err := benchkit.Tool(bin, dir, env, "", "check-index")
			res.last = strings.Join(strings.Fields(strings.TrimSpace(out)), " ")
			if err != nil {
				res.last = strings.Join(strings.Fields(res.last+" "+err.Error()), " ")
			} else {
				res.matched, res.matchedIn = true, time.Since(t0)
				return res
			}
		} else if err != nil {
			res.last = err.Error()
		}
		if time.Since(t0) > limit || ctx.Err() != nil {
			if pending > 0 {
				rows, _ := st.Pool().Query(ctx, `SELECT topic, attempts, coalesce(last_error, '') FROM outbox WHERE done_at IS NULL ORDER BY id LIMIT 3`)
				type r struct {
					Topic    string
					Attempts int
					Err      string
				}
				if left, err := pgx.CollectRows(rows, pgx.RowToStructByPos[r]); err == nil {
					for _, l := range left {
						res.last += fmt.Sprintf(" [%s attempt %d: %s]", l.Topic, l.Attempts, l.Err)
					}
				}
			}
			return res
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// outboxReport writes the run's outbox messages to path and describes the
// slowest ones to be handled.
func outboxReport(ctx context.Context, st *store.Store, loadStart time.Time, path string) (string, error) {
	type row struct {
		ID       int64
		Topic    string
		Created  float64
		Done     *float64
		Attempts int
		LastErr  string
	}
	t0 := float64(loadStart.UnixMicro()) / 1e6
	rows, _ := st.Pool().Query(ctx, `
		SELECT id, topic, extract(epoch FROM created_at)::float8 - $1, extract(epoch FROM done_at)::float8 - $1, attempts, coalesce(last_error, '')
		FROM outbox WHERE created_at >= to_timestamp($1) ORDER BY id`, t0)
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintln(&b, "id,topic,created_s,done_s,attempts,last_error")
	for _, r := range all {
		done := ""
		if r.Done != nil {
			done = fmt.Sprintf("%.3f", *r.Done)
		}
		fmt.Fprintf(&b, "%d,%s,%.3f,%s,%d,%q\n", r.ID, r.Topic, r.Created, done, r.Attempts, r.LastErr)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return "", err
	}
	wait := func(r row) float64 {
		if r.Done == nil {
			return 1e9
		}
		return *r.Done - r.Created
	}
	slices.SortFunc(all, func(a, b row) int { return cmp.Compare(wait(b), wait(a)) })
	var out []string
	for _, r := range all[:min(3, len(all))] {
		if r.Done == nil {
			out = append(out, fmt.Sprintf("#%d %s created at %.1fs NOT DONE after %d attempts", r.ID, r.Topic, r.Created, r.Attempts))
			continue
		}
		out = append(out, fmt.Sprintf("#%d %s created at %.1fs, done at %.1fs after %d attempts", r.ID, r.Topic, r.Created, *r.Done, r.Attempts))
	}
	return fmt.Sprintf("%d messages; %s", len(all), strings.Join(out, "; ")), nil
}

// --- analysis ---

type span struct {
	name     string
	from, to time.Duration
}

func windowsOf(faults []*fault, elapsed time.Duration) []span {
	first := elapsed
	if len(faults) > 0 {
		first = faults[0].at
	}
	out := []span{{winSteady, 0, first}}
	for _, f := range faults {
		out = append(out, span{f.name, f.at, f.end})
	}
	return out
}

func faultNamed(faults []*fault, name string) *fault {
	for _, f := range faults {
		if f.name == name {
			return f
		}
	}
	return nil
}

type report struct {
	all            []rec
	acked          map[string]bool
	confirmed      map[string]bool
	dupAcks        int
	sentWithoutRef int
	postKept       int
	postLost       int
}

func collect(ws []*worker, warm []string) *report {
	r := &report{acked: map[string]bool{}, confirmed: map[string]bool{}}
	for _, ref := range warm {
		r.acked[ref] = true
	}
	for _, w := range ws {
		r.all = append(r.all, w.recs...)
		for _, ref := range w.acks {
			if r.acked[ref] {
				r.dupAcks++
			}
			r.acked[ref] = true
		}
		for _, ref := range w.confirmed {
			r.confirmed[ref] = true
		}
		r.sentWithoutRef += w.sentNoRef
		r.postKept += w.postKept
		r.postLost += w.postLost
	}
	slices.SortFunc(r.all, func(a, b rec) int { return cmp.Compare(a.end, b.end) })
	return r
}

type counts struct {
	n, ok, expected, unexpected int
	class                       map[string]int
	p99                         time.Duration
}

// expected says whether a failed request is what the faults explain.
func expected(x *rec, faults []*fault, grace time.Duration) bool {
	for _, f := range faults {
		back := f.restored
		if back == 0 {
			back = f.end // never back: the whole window
		}
		if x.end < f.at || x.start > back+grace {
			continue
		}
		switch f.name {
		case winSite:
			if x.status == 0 && x.fail != "other" {
				return true
			}
		case winPG:
			if needsPG[x.kind] && (x.fail == "5xx" || x.fail == "timeout") {
				return true
			}
		}
	}
	return false
}

func (r *report) count(keep func(*rec) bool, faults []*fault, grace time.Duration) counts {
	c := counts{class: map[string]int{}}
	var lats []time.Duration
	for i := range r.all {
		x := &r.all[i]
		if !keep(x) {
			continue
		}
		c.n++
		if x.fail == "" {
			c.ok++
			lats = append(lats, x.end-x.start)
			continue
		}
		c.class[x.fail]++
		if expected(x, faults, grace) {
			c.expected++
		} else {
			c.unexpected++
		}
	}
	if len(lats) > 0 {
		slices.Sort(lats)
		c.p99 = lats[min(len(lats)-1, int(0.99*float64(len(lats))))]
	}
	return c
}

type recovery struct {
	n, errors        int
	lastErr, firstOK time.Duration // since the fault; -1: none
}

func (r *report) recovery(f *fault, kind string) recovery {
	rc := recovery{lastErr: -1, firstOK: -1}
	for i := range r.all {
		x := &r.all[i]
		if x.kind != kind || x.end < f.at || x.end >= f.end {
			continue
		}
		rc.n++
		if x.fail != "" {
			rc.errors++
			rc.lastErr = max(rc.lastErr, x.end-f.at)
			continue
		}
		if x.start < max(f.at, f.exited) || (f.name == winMeili && x.degraded) {
			continue
		}
		if rc.firstOK < 0 || x.end-f.at < rc.firstOK {
			rc.firstOK = x.end - f.at
		}
	}
	return rc
}

func (r *report) timeline(elapsed time.Duration, ok bool) string {
	secs := int((elapsed + time.Second - 1) / time.Second)
	n := make([]int, secs)
	for _, x := range r.all {
		if (x.fail == "") == ok {
			n[min(int(x.end/time.Second), secs-1)]++
		}
	}
	parts := make([]string, len(n))
	for i, v := range n {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, " ")
}

func (r *report) writeCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	b := bufio.NewWriter(f)
	fmt.Fprintln(b, "kind,start_s,end_s,status,fail,degraded,detail")
	for _, x := range r.all {
		fmt.Fprintf(b, "%s,%.4f,%.4f,%d,%s,%t,%q\n", x.kind, x.start.Seconds(), x.end.Seconds(), x.status, x.fail, x.degraded, x.detail)
	}
	if err := b.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// --- helpers ---

func publishedRefs(ctx context.Context, st *store.Store) ([]string, error) {
	rows, _ := st.Pool().Query(ctx, `SELECT ref FROM gallery_entries WHERE status = 'published' ORDER BY ref`)
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func copyFile(from, to string) {
	if from == "" {
		return
	}
	b, err := os.ReadFile(from)
	if err == nil {
		_ = os.WriteFile(to, b, 0o644)
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for _, k := range kinds {
		if m[k] {
			out = append(out, k)
		}
	}
	return out
}

func countText(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(m[b]-m[a], strings.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func classText(m map[string]int) string { return countText(m) }

func secs(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return fmt.Sprintf("+%.2f", d.Seconds())
}

func ms(d time.Duration) string { return benchkit.MS(d, 1) }
