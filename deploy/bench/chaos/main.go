// Command chaos is the fault-injection run behind `make chaos`: the whole
// stack under a mixed load while its parts fail one after the other.
//
// It seeds demo gallery entries and builds the index in a throw-away stack,
// starts the site, and runs concurrent clients for -duration: country pages,
// gallery searches, photo pages and their images, and the contact form (GET,
// POST, confirmation), in ten languages, while a publisher publishes and
// withdraws entries so that the outbox has index work through every fault:
// Meilisearch is killed and started again, PostgreSQL is stopped and started,
// and the site is sent SIGTERM under load and started again.
//
// It reports requests and errors per kind and per fault window, expected and
// not, the time each kind and /readyz took to recover, whether the gallery
// kept answering from PostgreSQL while Meilisearch was down, every
// acknowledged enquiry PostgreSQL lacks, and whether `familylinks
// check-index` finds the index equal to PostgreSQL once the outbox drained.
//
// Exit status: 0 when no acknowledged enquiry is missing, the index matches
// and every fault went as planned (with -strict, also no unexpected client
// error); 1 otherwise; 2 on a setup error. Logs go to var/chaos/<time>/
// (var/chaos/latest points at the last run).
//
// Usage: bash deploy/bench/chaos.sh [flags]   (go run ./deploy/bench/chaos -h)
package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/deploy/bench/benchkit"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/store"
	"github.com/jackc/pgx/v5"
)

var (
	bin          = flag.String("bin", "var/bin/familylinks", "the site binary")
	outRoot      = flag.String("out", "var/chaos", "where each run's logs and summary go (a subdirectory per run)")
	workers      = flag.Int("workers", 16, "concurrent clients, each with its own cookie jar")
	duration     = flag.Duration("duration", 60*time.Second, "how long the load runs")
	timeout      = flag.Duration("timeout", 8*time.Second, "per-request timeout of the clients")
	entries      = flag.Int("entries", 40, "published demo gallery entries before the load")
	publishEvery = flag.Duration("publish-every", 2*time.Second, "the publisher publishes an entry, and withdraws one every other time, this often (0: off)")
	meiliAt      = flag.Duration("meili-at", 8*time.Second, "when Meilisearch is stopped (0: never)")
	meiliDown    = flag.Duration("meili-down", 10*time.Second, "how long Meilisearch stays down")
	meiliSignal  = flag.String("meili-signal", "kill", "how Meilisearch fails: kill (SIGKILL), term (SIGTERM), or stop (SIGSTOP: it hangs, then SIGCONT)")
	pgAt         = flag.Duration("pg-at", 28*time.Second, "when PostgreSQL is stopped (0: never)")
	pgDown       = flag.Duration("pg-down", 2*time.Second, "how long PostgreSQL stays down between stop and start")
	pgMode       = flag.String("pg-mode", "fast", "pg_ctl stop mode: smart, fast or immediate")
	siteAt       = flag.Duration("site-at", 44*time.Second, "when the site is sent SIGTERM and restarted (0: never)")
	grace        = flag.Duration("grace", 5*time.Second, "after an engine or the site is back, how long its errors still count as expected")
	drainTimeout = flag.Duration("drain-timeout", 3*time.Minute, "how long the outbox may take to drain and the index to match PostgreSQL after the load")
	strict       = flag.Bool("strict", false, "also fail on unexpected client errors")
)

func main() {
	flag.Parse()
	if *workers < 1 || *duration <= 0 || !slices.Contains([]string{"kill", "term", "stop"}, *meiliSignal) {
		fmt.Fprintln(os.Stderr, "chaos: need -workers >= 1, -duration > 0, -meili-signal kill|term|stop")
		os.Exit(2)
	}
	prev := time.Duration(0)
	for _, at := range slices.DeleteFunc([]time.Duration{*meiliAt, *pgAt, *siteAt}, func(d time.Duration) bool { return d == 0 }) {
		if at <= prev || at >= *duration {
			fmt.Fprintln(os.Stderr, "chaos: the faults must come in order (-meili-at < -pg-at < -site-at) inside -duration")
			os.Exit(2)
		}
		prev = at
	}
	benchkit.Main("chaos", run)
}

// Request kinds; the PostgreSQL kinds are those it answers.
var (
	kinds   = []string{"country", "gallery", "photo", "media", "form", "post", "sent"}
	pgKinds = []string{"gallery", "photo", "media", "post", "sent"}
	langs   = []string{"en", "fr", "es", "ar", "prs", "ps", "so", "ru", "uk", "ti"}
)

// fault is one injected fault and what happened to it, since the start of
// the load: it is stopped, down for a while, and started again.
type fault struct {
	name, how   string
	stop, start func() error
	down        time.Duration
	at, exited  time.Duration // injected; the engine or the old site was down
	restored    time.Duration // it answered again
	end         time.Duration // its window ends: the next fault or the end of the load
	err         error
}

// chaos is one run.
type chaos struct {
	b         *benchkit.Bench
	st        *store.Store
	keys      *crypt.Keyring
	out       string
	events    *os.File
	mu        sync.Mutex
	start     time.Time // of the load; zero before
	pids      map[string]int
	pg        string   // PostgreSQL's durability settings
	stable    []string // published refs the publisher never withdraws
	isos, res []string // countries; those with a National Society
	workers   []*worker
	faults    []*fault
	ready     []sample // /readyz
	pub       []sample // the publisher's publish and withdraw
}

type sample struct {
	at          time.Duration
	state, fail string
}

func run(ctx context.Context) (code int, err error) {
	c := &chaos{pids: map[string]int{}}
	if err := c.setUp(ctx); err != nil {
		return 2, err
	}
	defer func() {
		copyFile(c.b.Stack.PostgresLog(), filepath.Join(c.out, "pg.log"))
		copyFile(c.b.Stack.MeiliLog(), filepath.Join(c.out, "meili.log"))
		c.st.Close()
		err = errors.Join(err, c.b.Close())
		c.events.Close()
		os.Remove(filepath.Join(c.out, "pids"))
	}()
	if err := c.startClients(ctx); err != nil {
		return 2, err
	}
	elapsed, busy := c.load(ctx)
	if ctx.Err() != nil {
		return 130, ctx.Err()
	}
	idx := c.checkIndex(ctx)
	c.logf("index: %s", idx)
	d, err := benchkit.CheckDurability(ctx, c.st.Pool(), c.acked())
	if err != nil {
		return 2, err
	}
	c.b.StopSites()
	return c.report(elapsed, busy, idx, d)
}

// logf reports progress on stderr and in events.log, with the time since
// the start of the load; events after it start are kept.
func (c *chaos) logf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stamp := "setup"
	if !c.start.IsZero() {
		stamp = fmt.Sprintf("%6.2fs", time.Since(c.start).Seconds())
	}
	line := fmt.Sprintf("chaos %s %s\n", stamp, fmt.Sprintf(format, a...))
	fmt.Fprint(os.Stderr, line)
	fmt.Fprint(c.events, line)
}

// --- set up ---

// setUp starts the engines, seeds and indexes the gallery and starts the site.
func (c *chaos) setUp(ctx context.Context) (err error) {
	if c.out, err = filepath.Abs(filepath.Join(*outRoot, time.Now().Format("20060102-150405"))); err != nil {
		return err
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	latest := filepath.Join(filepath.Dir(c.out), "latest")
	_ = os.Remove(latest)
	_ = os.Symlink(filepath.Base(c.out), latest)
	if c.events, err = os.Create(filepath.Join(c.out, "events.log")); err != nil {
		return err
	}
	c.b, err = benchkit.Setup(ctx, benchkit.Options{Name: "chaos", Bin: *bin, Meili: true, LogDir: c.out, Logf: c.logf,
		Env: []string{"FAMILYLINKS_TRUSTED_PROXIES=127.0.0.1", "FAMILYLINKS_LOG_LEVEL=warn"}})
	if err != nil {
		return err
	}
	c.b.OnStart = func(s *benchkit.Site) { c.writePids("site", s.Cmd.Process.Pid) }
	c.writePids("meili", c.b.Stack.MeiliPID())
	if err := c.b.AddStaff("chaos@drk.example", "caseworker", ""); err != nil {
		return err
	}
	if c.keys, err = crypt.Parse(c.b.DataKey); err != nil {
		return err
	}
	if c.st, err = store.Open(ctx, c.b.Stack.DatabaseURL); err != nil {
		return err
	}
	// The throw-away cluster runs with synchronous_commit off for speed; a
	// commit acknowledged then could vanish in a PostgreSQL crash (-pg-mode
	// immediate), which production does not allow. On for this database, as
	// in production (fsync stays off, which only an OS crash would show).
	if _, err := c.st.Pool().Exec(ctx, `ALTER DATABASE familylinks SET synchronous_commit = on`); err != nil {
		return err
	}
	c.st.Pool().Reset()
	c.pg = benchkit.PGSettings(ctx, c.st.Pool())
	t := time.Now()
	if _, err := gallery.SeedDemo(ctx, c.st, c.keys, *entries); err != nil {
		return fmt.Errorf("seeding the gallery: %w", err)
	}
	rows, _ := c.st.Pool().Query(ctx, `SELECT ref FROM gallery_entries WHERE status = 'published' ORDER BY ref`)
	if c.stable, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil || len(c.stable) == 0 {
		return fmt.Errorf("no published entry after seeding: %v", err)
	}
	// The seed's outbox rows are covered by the reindex: done, so that the
	// drain afterwards measures only what the run itself queued.
	if _, err := c.st.Pool().Exec(ctx, `UPDATE outbox SET done_at = now() WHERE done_at IS NULL`); err != nil {
		return err
	}
	if _, err := c.b.Tool("", "reindex"); err != nil {
		return err
	}
	c.logf("%d demo entries published and indexed in %s", len(c.stable), time.Since(t).Round(time.Millisecond))
	data, err := content.Load()
	if err != nil {
		return err
	}
	for _, country := range data.Countries {
		if c.isos = append(c.isos, country.ISO2); country.Society != nil {
			c.res = append(c.res, country.ISO2)
		}
	}
	if _, err := c.b.StartSite(ctx); err != nil {
		return err
	}
	c.logf("site up on %s", c.b.Addr)
	return c.b.WaitReady(ctx)
}

// writePids records what the script's trap should stop, by process id and
// data directory, should this program die without cleaning up.
func (c *chaos) writePids(what string, pid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pids[what] = pid
	var b strings.Builder
	for _, k := range []string{"site", "meili"} {
		if c.pids[k] > 0 {
			fmt.Fprintf(&b, "%s %d\n", k, c.pids[k])
		}
	}
	fmt.Fprintf(&b, "pgdata %s\nwork %s\n", filepath.Join(filepath.Dir(c.b.Stack.PostgresLog()), "pg"), c.b.Work)
	_ = os.WriteFile(filepath.Join(c.out, "pids"), []byte(b.String()), 0o644)
}

// startClients makes the workers and checks every kind of request once: a
// page the site refuses is a setup error, not a result.
func (c *chaos) startClients(ctx context.Context) error {
	t := benchkit.Transport(*workers)
	for i := range *workers {
		c.workers = append(c.workers, &worker{c: c, Worker: &benchkit.Worker{ID: i, Base: c.b.Base, HTTP: benchkit.Client(t, *timeout),
			Rand: rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano())))}})
	}
	w := c.workers[0]
	w.Start = time.Now()
	for _, k := range kinds[:4] {
		if r := w.once(ctx, k); r.Fail != "" {
			return fmt.Errorf("a first %s request failed: %s %s%s", k, r.Fail, r.Detail, c.b.Tail())
		}
	}
	if r := w.contact(ctx); r.Fail != "" {
		return fmt.Errorf("a first enquiry failed: %s %s%s", r.Fail, r.Detail, c.b.Tail())
	}
	w.warm, w.Recs, w.acks, w.confirmed = w.acks, nil, nil, nil
	return nil
}

// --- load and faults ---

// load runs the clients, the readiness probe, the publisher and the faults
// for -duration, and returns how long it took and how busy the machine was.
func (c *chaos) load(ctx context.Context) (time.Duration, string) {
	cpu0 := benchkit.MachineCPU()
	c.mu.Lock()
	c.start = time.Now()
	c.mu.Unlock()
	deadline := c.start.Add(*duration)
	loadCtx, stop := context.WithDeadline(ctx, deadline)
	defer stop()
	var wg, aux sync.WaitGroup
	for _, w := range c.workers {
		w.Start = c.start
		wg.Go(func() { w.Loop(ctx, deadline, 20*time.Millisecond, w.step) })
	}
	// /readyz with the Kubernetes probe's 5 s timeout (deploy/k8s).
	probe := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	aux.Go(func() {
		benchkit.Every(loadCtx, 100*time.Millisecond, func() {
			if s := benchkit.Ready(loadCtx, probe, c.b.Base); loadCtx.Err() == nil {
				c.ready = append(c.ready, sample{at: time.Since(c.start), state: s})
			}
		})
	})
	if *publishEvery > 0 {
		aux.Go(func() { c.publish(loadCtx) })
	}
	aux.Go(func() { c.injectFaults(ctx, loadCtx) })
	wg.Wait()
	elapsed := time.Since(c.start)
	stop()
	aux.Wait()
	c.logf("load stopped")
	for i, f := range c.faults {
		f.end = elapsed
		if i+1 < len(c.faults) {
			f.end = c.faults[i+1].at
		}
	}
	return elapsed, benchkit.Busy(benchkit.MachineCPU(), cpu0)
}

// publish publishes an entry every -publish-every, and withdraws one every
// other time, as a caseworker's approval and withdrawal would.
func (c *chaos) publish(ctx context.Context) {
	record := func(op string, err error) {
		s := sample{at: time.Since(c.start), state: op}
		if err != nil {
			s.fail = err.Error()
		}
		c.pub = append(c.pub, s)
	}
	i := 0
	benchkit.Every(ctx, *publishEvery, func() {
		octx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := gallery.SeedDemo(octx, c.st, c.keys, 1)
		record("publish", err)
		if i++; i%2 == 0 {
			var id int64
			err := c.st.Pool().QueryRow(octx, `SELECT id FROM gallery_entries WHERE status = 'published' AND ref <> ALL($1) ORDER BY random() LIMIT 1`, c.stable).Scan(&id)
			if err == nil {
				err = c.st.WithdrawGalleryEntry(octx, id, "other")
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				record("withdraw", err)
			}
		}
	})
}

// injectFaults injects each fault at its time: stop, down for a while,
// start again.
func (c *chaos) injectFaults(ctx, loadCtx context.Context) {
	stack := c.b.Stack
	meiliPid := 0
	if *meiliAt > 0 {
		how := map[string]string{"kill": "SIGKILL, down %s, started again on the same port and data",
			"term": "SIGTERM, down %s, started again on the same port and data", "stop": "SIGSTOP, hung for %s, then SIGCONT"}[*meiliSignal]
		f := &fault{name: "meilisearch", at: *meiliAt, down: *meiliDown, how: fmt.Sprintf(how, *meiliDown),
			stop: func() error { return stack.StopMeili(*meiliSignal == "kill") },
			start: func() error {
				sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
				defer cancel()
				err := stack.StartMeili(sctx)
				c.writePids("meili", stack.MeiliPID())
				return err
			}}
		if *meiliSignal == "stop" {
			f.stop = func() error { meiliPid = stack.MeiliPID(); return syscall.Kill(meiliPid, syscall.SIGSTOP) }
			f.start = func() error { return syscall.Kill(meiliPid, syscall.SIGCONT) }
		}
		c.faults = append(c.faults, f)
	}
	if *pgAt > 0 {
		c.faults = append(c.faults, &fault{name: "postgresql", at: *pgAt, down: *pgDown, how: fmt.Sprintf("pg_ctl stop -m %s, down %s, pg_ctl start", *pgMode, *pgDown),
			stop: func() error { return stack.StopPostgres(*pgMode) }, start: stack.StartPostgres})
	}
	if *siteAt > 0 {
		f := &fault{name: "site", at: *siteAt, how: "SIGTERM under load (graceful shutdown), started again once it exited"}
		f.stop = func() error {
			old := c.b.Site()
			c.logf("site: SIGTERM (pid %d), %d requests in flight", old.Cmd.Process.Pid, benchkit.InFlight())
			if err := old.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
				return err
			}
			select {
			case <-old.Done:
			case <-time.After(30 * time.Second):
				f.err = errors.New("the site did not exit within 30 s of SIGTERM")
				c.logf("site: %v; killing it", f.err)
				old.Stop()
			}
			c.logf("site: exited (%v) %s after SIGTERM", exitText(old.Err), ms(time.Since(c.start)-f.at))
			return nil
		}
		f.start = func() error { _, err := c.b.StartSite(ctx); return err }
		c.faults = append(c.faults, f)
	}
	for _, f := range c.faults {
		select {
		case <-time.After(time.Until(c.start.Add(f.at))):
		case <-loadCtx.Done():
			return
		}
		f.at = time.Since(c.start)
		c.logf("FAULT %s: %s", f.name, f.how)
		if err := f.stop(); err != nil {
			f.err = err
			c.logf("%s: stop failed: %v", f.name, err)
			continue
		}
		f.exited = time.Since(c.start)
		c.logf("%s: down", f.name)
		select {
		case <-time.After(f.down):
		case <-loadCtx.Done():
		}
		if err := f.start(); err != nil {
			f.err = errors.Join(f.err, err)
			c.logf("%s: start failed: %v", f.name, err)
			continue
		}
		f.restored = time.Since(c.start)
		c.logf("%s: back, answering", f.name)
	}
}

// --- clients ---

// worker is one client, with what its enquiries came to.
type worker struct {
	*benchkit.Worker
	c                     *chaos
	warm, acks, confirmed []string
	sentNoRef             int
	postKept, postLost    int // POSTs refused with a 5xx whose form came back filled in, or not
}

var (
	origins = []string{"af", "sy", "so", "er", "ua", "sd", "ss", "ye", "iq", "cd", "et", "mm"}
	texts   = []string{"mother", "brother", "afghanistan", "somalia", "somlia", "sirya", "مادر", "mère"}
	sentRef = regexp.MustCompile(`<p class="ref" dir="ltr">(?:<bdi>)?([^<]+)(?:</bdi>)?</p>`)
)

// step sends what one visitor does next: a country page (30%), a gallery
// search (30%), a photo page and its image (15%) or an enquiry (25%).
func (w *worker) step(ctx context.Context) benchkit.Rec {
	switch x := w.Rand.IntN(100); {
	case x < 30:
		return w.once(ctx, "country")
	case x < 60:
		return w.once(ctx, "gallery")
	case x < 75:
		return w.once(ctx, "media")
	}
	return w.contact(ctx)
}

// once sends one request of a kind other than the contact form.
func (w *worker) once(ctx context.Context, kind string) benchkit.Rec {
	lang := w.Pick(langs)
	switch kind {
	case "country":
		r, _, _ := w.Do(ctx, kind, http.MethodGet, "/"+lang+"/countries/"+w.Pick(w.c.isos), nil, nil)
		return r
	case "gallery":
		r, _, page := w.Do(ctx, kind, http.MethodGet, "/"+lang+"/trace-the-face"+w.galleryQuery(), nil, nil)
		if r.Fail == "" && strings.Contains(string(page), `<p class="banner" role="status">`) {
			w.Recs[len(w.Recs)-1].Degraded = true
		}
		return r
	}
	ref := w.Pick(w.c.stable)
	r, _, _ := w.Do(ctx, "photo", http.MethodGet, "/"+lang+"/trace-the-face/"+ref, nil, nil)
	if r.Fail != "" || kind == "photo" && w.Rand.IntN(2) == 0 {
		return r
	}
	r, _, _ = w.Do(ctx, "media", http.MethodGet, "/media/"+ref+"/320.jpg", nil, func(resp *http.Response, b []byte) (string, string) {
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/jpeg") || len(b) < 100 {
			return "other", fmt.Sprintf("status %d %s %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(b))
		}
		return "", ""
	})
	return r
}

func (w *worker) galleryQuery() string {
	v := url.Values{}
	switch w.Rand.IntN(6) {
	case 1:
		v.Set("origin", w.Pick(origins))
	case 2:
		v.Set("seeking", w.Pick(vocab.Relationships.Codes()))
		v.Set("gender", w.Pick(vocab.Genders.Codes()))
	case 3:
		v.Set("age", w.Pick(vocab.AgeGroups.Codes()))
		v.Set("origin", w.Pick(origins))
	case 4:
		v.Set("q", w.Pick(texts))
	case 5:
		v.Set("q", w.Pick(w.c.stable))
	}
	if w.Rand.IntN(5) == 0 {
		v.Set("page", "2")
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// contact fetches the form (CSRF cookie and token), posts an enquiry and
// reads the confirmation page. It returns the first failure, if any.
func (w *worker) contact(ctx context.Context) benchkit.Rec {
	lang, residence := w.Pick(langs), w.Pick(w.c.res)
	r, _, page := w.Do(ctx, "form", http.MethodGet, "/"+lang+"/contact?country="+residence, nil, func(resp *http.Response, b []byte) (string, string) {
		if resp.StatusCode != http.StatusOK || benchkit.CSRF(b) == "" {
			return "other", fmt.Sprintf("status %d, no _csrf field", resp.StatusCode)
		}
		return "", ""
	})
	if r.Fail != "" {
		return r
	}
	v := benchkit.Enquiry(benchkit.CSRF(page), lang, residence, w.ID, len(w.Recs))
	var ref string
	r, _, page = w.Do(ctx, "post", http.MethodPost, "/"+lang+"/contact", v, benchkit.Acknowledged(lang, &ref))
	if r.Fail == "5xx" { // a failure never loses input: the form must come back filled in
		if strings.Contains(string(page), v.Get("message")+"</textarea>") && strings.Contains(string(page), `value="`+v.Get("sought_name")+`"`) {
			w.postKept++
		} else {
			w.postLost++
		}
	}
	if r.Fail != "" {
		return r
	}
	w.acks = append(w.acks, ref)
	r, _, _ = w.Do(ctx, "sent", http.MethodGet, "/"+lang+"/contact/sent", nil, func(resp *http.Response, b []byte) (string, string) {
		m := sentRef.FindSubmatch(b)
		switch {
		case resp.StatusCode != http.StatusOK:
			return "other", "status " + strconv.Itoa(resp.StatusCode)
		case m == nil:
			w.sentNoRef++
			return "other", "confirmation page without the reference"
		case string(m[1]) != ref:
			return "other", "confirmation shows " + string(m[1]) + ", acknowledged " + ref
		}
		w.confirmed = append(w.confirmed, ref)
		return "", ""
	})
	return r
}

// --- checks ---

// acked is every acknowledged reference, the warm-up's too.
func (c *chaos) acked() (refs []string) {
	for _, w := range c.workers {
		refs = append(append(refs, w.warm...), w.acks...)
	}
	return refs
}

// indexCheck is how the index compared with PostgreSQL after the load.
type indexCheck struct {
	matched            bool
	drained, matchedIn time.Duration // after the load: the outbox was empty (-1: never); check-index agreed
	pending            int64
	last               string
}

func (x indexCheck) String() string {
	if !x.matched {
		return fmt.Sprintf("NO MATCH (outbox pending %d): %s", x.pending, x.last)
	}
	drain := "at once"
	if x.drained > 0 {
		drain = "in " + x.drained.Round(10*time.Millisecond).String()
	}
	return fmt.Sprintf("matches PostgreSQL %s after the load (outbox drained %s): %s", x.matchedIn.Round(10*time.Millisecond), drain, x.last)
}

// checkIndex waits for the outbox to drain and `familylinks check-index` to
// agree, up to -drain-timeout.
func (c *chaos) checkIndex(ctx context.Context) indexCheck {
	t0 := time.Now()
	x := indexCheck{drained: -1}
	for ; ; time.Sleep(500 * time.Millisecond) {
		pending, _, err := c.st.OutboxStats(ctx)
		x.pending = pending
		if err != nil {
			x.last = err.Error()
		} else if pending == 0 {
			if x.drained < 0 {
				x.drained = time.Since(t0)
			}
			out, err := c.b.Tool("", "check-index")
			if err == nil {
				x.matched, x.matchedIn, x.last = true, time.Since(t0), strings.Join(strings.Fields(out), " ")
				return x
			}
			x.last = strings.Join(strings.Fields(err.Error()), " ")
		}
		if time.Since(t0) > *drainTimeout || ctx.Err() != nil {
			rows, _ := c.st.Pool().Query(ctx, `SELECT format(' [%s attempt %s: %s]', topic, attempts, coalesce(last_error, '')) FROM outbox WHERE done_at IS NULL ORDER BY id LIMIT 3`)
			left, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			x.last += strings.Join(left, "")
			return x
		}
	}
}

// outboxReport writes the run's outbox messages to outbox.csv and describes
// the slowest ones to be handled.
func (c *chaos) outboxReport(ctx context.Context) string {
	type row struct {
		ID       int64
		Topic    string
		Created  float64
		Done     *float64
		Attempts int
		LastErr  string
	}
	t0 := float64(c.start.UnixMicro()) / 1e6
	rows, _ := c.st.Pool().Query(ctx, `
		SELECT id, topic, extract(epoch FROM created_at)::float8 - $1, extract(epoch FROM done_at)::float8 - $1, attempts, coalesce(last_error, '')
		FROM outbox WHERE created_at >= to_timestamp($1) ORDER BY id`, t0)
	all, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		return "unknown: " + err.Error()
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
	if err := os.WriteFile(filepath.Join(c.out, "outbox.csv"), []byte(b.String()), 0o644); err != nil {
		return "unknown: " + err.Error()
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
		} else {
			out = append(out, fmt.Sprintf("#%d %s created at %.1fs, done at %.1fs after %d attempts", r.ID, r.Topic, r.Created, *r.Done, r.Attempts))
		}
	}
	return fmt.Sprintf("%d messages; %s", len(all), strings.Join(out, "; "))
}

// --- report ---

// expected says whether a failed request is what the faults explain:
// connection errors from SIGTERM until -grace after the new site answers;
// 5xx and timeouts of the PostgreSQL kinds from its stop until -grace after
// its start.
func (c *chaos) expected(x *benchkit.Rec) bool {
	for _, f := range c.faults {
		if x.End < f.at || x.Start > cmp.Or(f.restored, f.end)+*grace {
			continue
		}
		if f.name == "site" && x.Status == 0 && x.Fail != "other" || f.name == "postgresql" && slices.Contains(pgKinds, x.Kind) && (x.Fail == "5xx" || x.Fail == "timeout") {
			return true
		}
	}
	return false
}

// counts are requests: how many, how many OK, failures by class, expected
// and not, and the p99 of the OK ones.
type counts struct {
	n, ok, expected, unexpected int
	class                       benchkit.Tally
	p99                         time.Duration
}

func (c *chaos) count(recs benchkit.Recs) counts {
	ok := recs.OK()
	k := counts{n: len(recs), ok: len(ok), class: benchkit.Tally{}, p99: ok.Latencies().Pct(.99)}
	for i := range recs {
		if x := &recs[i]; x.Fail != "" {
			k.class[x.Fail]++
			if c.expected(x) {
				k.expected++
			} else {
				k.unexpected++
			}
		}
	}
	return k
}

// span is a window of the load: before the first fault, or a fault's.
type span struct {
	name     string
	from, to time.Duration
}

func (c *chaos) windows(elapsed time.Duration) []span {
	out := []span{{"steady", 0, elapsed}}
	for _, f := range c.faults {
		out[0].to = min(out[0].to, f.at)
		out = append(out, span{f.name, f.at, f.end})
	}
	return out
}

// inWindows counts samples (of /readyz or the publisher) per window.
func inWindows(samples []sample, windows []span, key func(sample) string) string {
	var out []string
	for _, win := range windows {
		t := benchkit.Tally{}
		for _, s := range samples {
			if s.at >= win.from && s.at < win.to {
				t[key(s)]++
			}
		}
		out = append(out, win.name+": "+t.String())
	}
	return strings.Join(out, "; ")
}

// readyRecovery describes /readyz in a fault's window: what it said, and
// when it was ready again.
func (c *chaos) readyRecovery(f *fault) string {
	t := benchkit.Tally{}
	var order []string
	lastBad, readyAgain := time.Duration(-1), time.Duration(-1)
	for _, s := range c.ready {
		if s.at < f.at || s.at >= f.end {
			continue
		}
		if t[s.state]++; t[s.state] == 1 {
			order = append(order, s.state)
		}
		if s.state != "ready" {
			lastBad, readyAgain = s.at, -1
		} else if lastBad >= 0 && readyAgain < 0 {
			readyAgain = s.at
		}
	}
	for i, k := range order {
		order[i] = fmt.Sprintf("%s %d", k, t[k])
	}
	seen := strings.Join(order, ", ")
	switch {
	case lastBad < 0:
		return "stayed ready (" + seen + ")"
	case readyAgain < 0:
		return "NOT ready again before the window ended (" + seen + ")"
	}
	return fmt.Sprintf("ready again at +%.2fs (%s)", (readyAgain - f.at).Seconds(), seen)
}

func (c *chaos) report(elapsed time.Duration, busy string, idx indexCheck, d *benchkit.Durability) (int, error) {
	all := benchkit.Collect(c.benchWorkers())
	sum, err := os.Create(filepath.Join(c.out, "summary.txt"))
	if err != nil {
		return 2, err
	}
	defer sum.Close()
	w := bufio.NewWriter(io.MultiWriter(os.Stdout, sum))
	defer w.Flush()
	var confirmed []string
	var sentNoRef, postKept, postLost int
	for _, x := range c.workers {
		confirmed = append(confirmed, x.confirmed...)
		sentNoRef, postKept, postLost = sentNoRef+x.sentNoRef, postKept+x.postKept, postLost+x.postLost
	}
	slices.Sort(confirmed)
	fmt.Fprintf(w, "\nchaos: %d clients for %s on %d cores (PostgreSQL, Meilisearch, the site and the clients share them; machine %s busy)\n",
		*workers, elapsed.Round(time.Millisecond), runtime.NumCPU(), busy)
	fmt.Fprintf(w, "PostgreSQL: throw-away cluster, %s (on for this database, as in production)\n", c.pg)
	fmt.Fprintf(w, "mix: country pages, gallery searches with filters, photo pages and their 320 px image, contact form GET+POST+confirmation; %d languages; a publisher publishing and withdrawing entries every %s\n",
		len(langs), *publishEvery)
	fmt.Fprintf(w, "\nfaults\n")
	for _, f := range c.faults {
		status, back := "ok", "-"
		if f.err != nil {
			status = "FAILED: " + f.err.Error()
		}
		if f.restored > 0 {
			back = fmt.Sprintf("%.2fs", f.restored.Seconds())
		}
		fmt.Fprintf(w, "  %-12s at %6.2fs, back at %6s: %s (%s)\n", f.name, f.at.Seconds(), back, f.how, status)
		if f.name == "site" && f.exited > 0 {
			fmt.Fprintf(w, "  %-12s the old process exited %s after SIGTERM; the new one answered %s after SIGTERM\n", "", ms(f.exited-f.at), ms(f.restored-f.at))
		}
	}

	windows := c.windows(elapsed)
	fmt.Fprintf(w, "\nrequests per window (a request belongs to the window in which it ended)\n")
	fmt.Fprintf(w, "  %-12s %-13s %8s %8s %8s %8s %8s %6s %6s %9s %10s %8s\n", "window", "span", "requests", "ok", "refused", "closed", "timeout", "5xx", "other", "expected", "UNEXPECTED", "p99 ok")
	for _, win := range append(windows, span{"total", 0, elapsed + time.Hour}) {
		k := c.count(all.Where(func(x *benchkit.Rec) bool { return x.End >= win.from && x.End < win.to }))
		fmt.Fprintf(w, "  %-12s %-13s %8d %8d %8d %8d %8d %6d %6d %9d %10d %8s\n", win.name, fmt.Sprintf("%.1f-%.1fs", win.from.Seconds(), min(win.to, elapsed).Seconds()),
			k.n, k.ok, k.class["refused"], k.class["closed"], k.class["timeout"], k.class["5xx"], k.class["other"], k.expected, k.unexpected, ms(k.p99))
	}
	fmt.Fprintf(w, "\nrequests per kind, whole run\n")
	fmt.Fprintf(w, "  %-8s %8s %8s %8s %8s %8s %6s %6s %10s %8s\n", "kind", "requests", "ok", "refused", "closed", "timeout", "5xx", "other", "UNEXPECTED", "p99 ok")
	for _, kind := range kinds {
		k := c.count(all.Where(func(x *benchkit.Rec) bool { return x.Kind == kind }))
		fmt.Fprintf(w, "  %-8s %8d %8d %8d %8d %8d %6d %6d %10d %8s\n", kind, k.n, k.ok, k.class["refused"], k.class["closed"], k.class["timeout"], k.class["5xx"], k.class["other"], k.unexpected, ms(k.p99))
	}
	fmt.Fprintf(w, "  expected: connection errors from SIGTERM until %s after the new site answers; 5xx and timeouts of the PostgreSQL kinds (%s) from the stop until %s after the start.\n",
		*grace, strings.Join(pgKinds, ", "), *grace)
	fmt.Fprintf(w, "  everything else is UNEXPECTED, including any error while Meilisearch is down. closed = connection reset or closed (EOF).\n")

	fmt.Fprintf(w, "\nrecovery, in seconds after each fault was injected (first OK: of a request sent once the engine or the old site was down;\n")
	fmt.Fprintf(w, "for the gallery in the Meilisearch window, the first answer from Meilisearch again, not a degraded one)\n")
	fmt.Fprintf(w, "  %-12s %-8s %7s %8s %9s %9s\n", "fault", "kind", "errors", "last err", "first OK", "requests")
	for _, f := range c.faults {
		fmt.Fprintf(w, "  %-12s down at %s, back at %s\n", f.name, secs(f.exited-f.at), secs(f.restored-f.at))
		for _, kind := range kinds {
			in := all.Where(func(x *benchkit.Rec) bool { return x.Kind == kind && x.End >= f.at && x.End < f.end })
			fails := in.Where(func(x *benchkit.Rec) bool { return x.Fail != "" })
			lastErr, firstOK := time.Duration(-1), time.Duration(-1)
			if len(fails) > 0 {
				lastErr = fails[len(fails)-1].End - f.at
			}
			if back := in.OK().Where(func(x *benchkit.Rec) bool {
				return x.Start >= max(f.at, f.exited) && !(f.name == "meilisearch" && x.Degraded)
			}); len(back) > 0 {
				firstOK = back[0].End - f.at
			}
			fmt.Fprintf(w, "  %-12s %-8s %7d %8s %9s %9d\n", f.name, kind, len(fails), secs(lastErr), secs(firstOK), len(in))
		}
		fmt.Fprintf(w, "  %-12s %-8s %s\n", f.name, "/readyz", c.readyRecovery(f))
	}
	for _, f := range c.faults {
		if f.name == "meilisearch" && f.restored > 0 {
			g := all.Where(func(x *benchkit.Rec) bool { return x.Kind == "gallery" && x.Start >= f.exited && x.End <= f.restored })
			ok := g.OK()
			verdict := map[bool]string{true: "YES", false: "NO"}[len(ok) == len(g) && len(g) > 0]
			fmt.Fprintf(w, "\ngallery while Meilisearch was down (%.2fs-%.2fs): kept answering: %s: %d requests, %d OK, %d of them degraded (answered from PostgreSQL), %d errors\n",
				f.exited.Seconds(), f.restored.Seconds(), verdict, len(g), len(ok), len(ok.Where(func(x *benchkit.Rec) bool { return x.Degraded })), len(g)-len(ok))
		}
		if f.name == "site" && f.err == nil {
			in := all.Where(func(x *benchkit.Rec) bool { return x.Start < f.at && x.End > f.at })
			k := c.count(in)
			fmt.Fprintf(w, "requests in flight when SIGTERM reached the site: %d, of which %d finished OK (graceful shutdown)", k.n, k.ok)
			if k.n > k.ok {
				fmt.Fprintf(w, "; failed: %s (refused: sent just as the listener closed, never reached the site)", k.class)
			}
			fmt.Fprintln(w)
		}
	}

	fmt.Fprintf(w, "\npublisher (direct store calls, as a caseworker's approval and withdrawal would): %s\n", c.publisherSummary(windows))
	fmt.Fprintf(w, "readyz states seen (every 100 ms, 5 s timeout as the Kubernetes probe): %s\n", inWindows(c.ready, windows, func(s sample) string { return s.state }))

	fmt.Fprintf(w, "\ndurability check against PostgreSQL\n")
	fmt.Fprintf(w, "  acknowledged enquiries (303 + fl_sent)  %d distinct", len(d.Acked))
	if d.Dups > 0 {
		fmt.Fprintf(w, "; %d DUPLICATE acknowledgements", d.Dups)
	}
	fmt.Fprintf(w, "\n  shown on the confirmation page          %d (%d confirmation pages without the reference)\n", len(slices.Compact(confirmed)), sentNoRef)
	fmt.Fprintf(w, "  refused with a 5xx                      %d, of which %d came back as the form with everything typed, %d lost the input\n", postKept+postLost, postKept, postLost)
	fmt.Fprintf(w, "  stored enquiries                        %d\n", len(d.Stored))
	fmt.Fprintf(w, "  acknowledged but missing                %d (must be 0)\n", len(d.Missing))
	fmt.Fprintf(w, "  stored but unacknowledged               %d (the answer was lost: site stopped, timeout, or an error after the commit)\n", d.Unacked)
	fmt.Fprintf(w, "\nindex check after the run: %s\n", idx)
	fmt.Fprintf(w, "outbox messages of the run, the slowest to be done: %s\n", c.outboxReport(context.Background()))
	fails := all.Where(func(x *benchkit.Rec) bool { return x.Fail != "" })
	fmt.Fprintf(w, "\nper second (ok / errors):\n  ok   %s\n  err  %s\n", all.OK().PerSecond(elapsed), fails.PerSecond(elapsed))
	fmt.Fprintf(w, "\nsite log (level warn, every process): %s\n", c.b.LogSummary())
	fmt.Fprintf(w, "logs: %s (events.log, site.log, pg.log, meili.log, requests.csv, summary.txt)\n", c.out)
	if err := all.WriteCSV(filepath.Join(c.out, "requests.csv")); err != nil {
		fmt.Fprintf(w, "requests.csv: %v\n", err)
	}

	// Verdict.
	var problems []string
	if len(d.Missing) > 0 {
		problems = append(problems, fmt.Sprintf("%d acknowledged enquiries are not in PostgreSQL, e.g. %s", len(d.Missing), strings.Join(d.Missing[:min(len(d.Missing), 10)], " ")))
	}
	if n := len(d.NotStored(confirmed)); n > 0 {
		problems = append(problems, fmt.Sprintf("%d enquiries shown on a confirmation page are not in PostgreSQL", n))
	}
	if len(d.Acked) == 0 {
		problems = append(problems, "no enquiry was acknowledged")
	}
	if !idx.matched {
		problems = append(problems, "the index does not match PostgreSQL: "+idx.String())
	}
	for _, f := range c.faults {
		if f.err != nil {
			problems = append(problems, fmt.Sprintf("the %s fault did not go as planned: %v", f.name, f.err))
		}
	}
	total := c.count(all)
	if *strict && total.unexpected > 0 {
		problems = append(problems, fmt.Sprintf("%d unexpected client errors (-strict)", total.unexpected))
	}
	if *strict && postLost > 0 {
		problems = append(problems, fmt.Sprintf("%d refused contact forms lost what was typed (-strict)", postLost))
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "\nFAIL:\n  %s\n", strings.Join(problems, "\n  "))
		return 1, nil
	}
	note := ""
	if total.unexpected > 0 {
		note = fmt.Sprintf(" (%d unexpected client errors, listed above; -strict fails on them)", total.unexpected)
	}
	fmt.Fprintf(w, "\nOK: every acknowledged enquiry is in PostgreSQL and the index matches it%s\n", note)
	return 0, nil
}

func (c *chaos) benchWorkers() (out []*benchkit.Worker) {
	for _, w := range c.workers {
		out = append(out, w.Worker)
	}
	return out
}

// publisherSummary is the publisher's operations per window: how many, how
// many failed, and the last failure.
func (c *chaos) publisherSummary(windows []span) string {
	var out []string
	for _, win := range windows {
		n, failed, example := 0, 0, ""
		for _, o := range c.pub {
			if o.at >= win.from && o.at < win.to {
				if n++; o.fail != "" {
					failed, example = failed+1, o.fail
				}
			}
		}
		s := fmt.Sprintf("%s %d ops, %d failed", win.name, n, failed)
		if len(example) > 80 {
			example = example[:80] + "…"
		}
		if example != "" {
			s += fmt.Sprintf(" (%q)", example)
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

func copyFile(from, to string) {
	if b, err := os.ReadFile(from); from != "" && err == nil {
		_ = os.WriteFile(to, b, 0o644)
	}
}

func exitText(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}

func secs(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return fmt.Sprintf("+%.2f", d.Seconds())
}

func ms(d time.Duration) string { return benchkit.MS(d, 1) }
