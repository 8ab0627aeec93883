// Command chaos is the fault-injection run behind `make chaos`: the whole
// stack under a mixed load (country pages, gallery searches, photo pages
// and images, the contact form, in ten languages; a publisher publishing
// and withdrawing entries) while Meilisearch is killed and started again,
// PostgreSQL is stopped and started, and the site is sent SIGTERM and
// started again. It reports errors per request kind and per fault window,
// expected and not, recovery times, whether the gallery kept answering
// without Meilisearch, acknowledged enquiries missing from PostgreSQL (must
// be none) and whether the index matches PostgreSQL once the outbox drained
// (must). Exit status 1 if not, or if a fault did not go as planned (with
// -strict, on unexpected client errors too); 2 on a setup error. Logs go to
// var/chaos/<time>/ (var/chaos/latest).
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
	benchkit.Usage(*workers >= 1 && *duration > 0 && slices.Contains([]string{"kill", "term", "stop"}, *meiliSignal), "chaos", "need -workers >= 1, -duration > 0, -meili-signal kill|term|stop")
	prev := time.Duration(0)
	for _, at := range []time.Duration{*meiliAt, *pgAt, *siteAt} {
		benchkit.Usage(at == 0 || at > prev && at < *duration, "chaos", "the faults must come in order (-meili-at < -pg-at < -site-at) inside -duration")
		prev = max(prev, at)
	}
	out, err := filepath.Abs(filepath.Join(*outRoot, time.Now().Format("20060102-150405")))
	benchkit.Usage(err == nil, "chaos", fmt.Sprint(err))
	c := &chaos{out: out, pids: map[string]int{}}
	benchkit.Main(benchkit.Options{Name: "chaos", Meili: true, LogDir: c.out, Logf: c.logf,
		Env: []string{"FAMILYLINKS_TRUSTED_PROXIES=127.0.0.1", "FAMILYLINKS_LOG_LEVEL=warn"}}, c.run)
}

// Request kinds; the PostgreSQL kinds are those it answers.
var (
	kinds   = []string{"country", "gallery", "photo", "media", "form", "post", "sent"}
	pgKinds = []string{"gallery", "photo", "media", "post", "sent"}
	langs   = []string{"en", "fr", "es", "ar", "prs", "ps", "so", "ru", "uk", "ti"}
)

// fault is one injected fault, which stops a part, leaves it down, and
// starts it again; and what happened, since the start of the load. Its
// window of the report runs from at to end; the load before the first
// fault is a window too (steady), which injects nothing.
type fault struct {
	name, how   string
	stop, start func() (string, error) // each says what it did
	down        time.Duration
	at, exited  time.Duration // injected; the part was down
	restored    time.Duration // it answered again
	end         time.Duration // its window ends: the next fault or the end of the load
	err         error
}

// chaos is one run.
type chaos struct {
	b          *benchkit.Bench
	st         *store.Store
	keys       *crypt.Keyring
	out        string // the run's log directory
	events     *os.File
	mu         sync.Mutex
	start      time.Time // of the load; zero before
	pids       map[string]int
	pg         string   // PostgreSQL's durability settings
	stable     []string // published refs the publisher never withdraws
	isos, res  []string // countries; those with a National Society
	workers    []*worker
	faults     []*fault
	ready, pub []sample // /readyz answers; the publisher's operations
}

type sample struct {
	at   time.Duration
	what string // /readyz: what it said
	err  error  // the publisher: how the operation failed
}

// run is the run in the world b: its engines, logs in c.out, and the site.
func (c *chaos) run(ctx context.Context, b *benchkit.Bench) (int, error) {
	c.b = b
	defer func() {
		copyFile(b.Stack.PostgresLog(), filepath.Join(c.out, "pg.log"))
		copyFile(b.Stack.MeiliLog(), filepath.Join(c.out, "meili.log"))
		os.Remove(filepath.Join(c.out, "pids"))
	}()
	if err := c.setUp(ctx); err != nil {
		return 2, err
	}
	defer c.st.Close()
	if err := c.startClients(ctx); err != nil {
		return 2, err
	}
	elapsed, busy := c.load(ctx)
	if ctx.Err() != nil {
		return 130, ctx.Err()
	}
	matched, idx := c.checkIndex(ctx)
	c.logf("index: %s", idx)
	return c.report(ctx, elapsed, busy, matched, idx)
}

// logf reports progress on stderr and in events.log, with the time since
// the start of the load.
func (c *chaos) logf(format string, a ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.events == nil { // the first line, while the engines start: the directory is there
		c.events, _ = os.Create(filepath.Join(c.out, "events.log"))
	}
	stamp := "setup"
	if !c.start.IsZero() {
		stamp = fmt.Sprintf("%6.2fs", time.Since(c.start).Seconds())
	}
	fmt.Fprintf(io.MultiWriter(os.Stderr, c.events), "chaos %s %s\n", stamp, fmt.Sprintf(format, a...))
}

// --- set up ---

// setUp seeds and indexes the gallery and starts the site.
func (c *chaos) setUp(ctx context.Context) (err error) {
	latest := filepath.Join(filepath.Dir(c.out), "latest")
	_ = os.Remove(latest)
	_ = os.Symlink(filepath.Base(c.out), latest)
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
	c.st.Pool().Reset() // new connections see it
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
		c.isos = append(c.isos, country.ISO2)
		if country.Society != nil {
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
// data directory, should this program die without cleaning up (site 0 until
// the site starts: the trap finds no /proc/0 and skips it).
func (c *chaos) writePids(what string, pid int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pids[what] = pid
	s := fmt.Sprintf("site %d\nmeili %d\npgdata %s\nwork %s\n", c.pids["site"], c.pids["meili"], filepath.Join(filepath.Dir(c.b.Stack.PostgresLog()), "pg"), c.b.Work)
	_ = os.WriteFile(filepath.Join(c.out, "pids"), []byte(s), 0o644)
}

// startClients makes the workers and checks every kind of request once: a
// page the site refuses is a setup error, not a result.
func (c *chaos) startClients(ctx context.Context) error {
	t := benchkit.Transport(*workers)
	for i := range *workers {
		c.workers = append(c.workers, &worker{c: c, Worker: &benchkit.Worker{ID: i, Base: c.b.Base, HTTP: benchkit.Client(t, *timeout),
			Rand: rand.New(rand.NewPCG(uint64(i)+1, uint64(time.Now().UnixNano()))), Start: time.Now()}})
	}
	w := c.workers[0]
	for _, k := range []string{"country", "gallery", "media", "enquiry"} {
		if r := w.step(ctx, k); r.Fail != "" {
			return fmt.Errorf("a first %s request failed: %s %s%s", k, r.Fail, r.Detail, c.b.Tail())
		}
	}
	w.Recs, w.confirmed = nil, nil // the warm-up's acknowledgements stay, to be checked
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
	auxCtx, stop := context.WithDeadline(ctx, deadline)
	defer stop()
	var wg, aux sync.WaitGroup
	for _, w := range c.workers {
		w.Start = c.start
		wg.Go(func() { w.Loop(ctx, deadline, 20*time.Millisecond, w.next) })
	}
	probe := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}} // as the Kubernetes probe
	aux.Go(func() {
		benchkit.Every(auxCtx, 100*time.Millisecond, func() {
			if s := benchkit.Ready(auxCtx, probe, c.b.Base); auxCtx.Err() == nil {
				c.ready = append(c.ready, sample{at: time.Since(c.start), what: s})
			}
		})
	})
	if *publishEvery > 0 {
		aux.Go(func() { c.publish(auxCtx) })
	}
	aux.Go(func() { c.injectFaults(ctx, auxCtx) })
	wg.Wait()
	elapsed := time.Since(c.start)
	stop()
	aux.Wait()
	c.logf("load stopped")
	return elapsed, benchkit.Busy(benchkit.MachineCPU(), cpu0)
}

// publish publishes an entry every -publish-every, and withdraws one every
// other time, as a caseworker's approval and withdrawal would.
func (c *chaos) publish(ctx context.Context) {
	record := func(err error) { c.pub = append(c.pub, sample{at: time.Since(c.start), err: err}) }
	i := 0
	benchkit.Every(ctx, *publishEvery, func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second) // once begun, an operation may end after the load
		defer cancel()
		_, err := gallery.SeedDemo(ctx, c.st, c.keys, 1)
		record(err)
		if i%2 == 1 {
			var id int64
			err := c.st.Pool().QueryRow(ctx, `SELECT id FROM gallery_entries WHERE status = 'published' AND ref <> ALL($1) ORDER BY random() LIMIT 1`, c.stable).Scan(&id)
			if err == nil {
				err = c.st.WithdrawGalleryEntry(ctx, id, "other")
			}
			if !errors.Is(err, pgx.ErrNoRows) {
				record(err)
			}
		}
		i++
	})
}

// injectFaults injects each fault at its time: stop, down for a while,
// start again.
func (c *chaos) injectFaults(ctx, loadCtx context.Context) {
	stack, meiliPid, signal := c.b.Stack, 0, "SIG"+strings.ToUpper(*meiliSignal)
	meili := &fault{name: "meilisearch", at: *meiliAt, down: *meiliDown, how: signal + fmt.Sprintf(", down %s, started again on the same port and data", *meiliDown),
		stop: func() (string, error) {
			meiliPid = stack.MeiliPID()
			c.logf("FAULT meilisearch: %s (pid %d)", signal, meiliPid)
			if *meiliSignal == "stop" {
				return "hung", syscall.Kill(meiliPid, syscall.SIGSTOP)
			}
			return "stopped", stack.StopMeili(*meiliSignal == "kill")
		},
		start: func() (string, error) {
			if *meiliSignal == "stop" {
				return "SIGCONT", syscall.Kill(meiliPid, syscall.SIGCONT)
			}
			sctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			err := stack.StartMeili(sctx)
			c.writePids("meili", stack.MeiliPID())
			return fmt.Sprintf("started again and healthy (pid %d)", stack.MeiliPID()), err
		}}
	if *meiliSignal == "stop" {
		meili.how = fmt.Sprintf("SIGSTOP, hung for %s, then SIGCONT", *meiliDown)
	}
	pg := &fault{name: "postgresql", at: *pgAt, down: *pgDown, how: fmt.Sprintf("pg_ctl stop -m %s, down %s, pg_ctl start", *pgMode, *pgDown),
		stop: func() (string, error) {
			c.logf("FAULT postgresql: pg_ctl stop -m %s", *pgMode)
			return "stopped", stack.StopPostgres(*pgMode)
		},
		start: func() (string, error) { return "started again, accepting connections", stack.StartPostgres() }}
	site := &fault{name: "site", at: *siteAt, how: "SIGTERM under load (graceful shutdown), started again once it exited"}
	site.stop = func() (string, error) {
		old := c.b.Site()
		c.logf("FAULT site: SIGTERM (pid %d), %d requests in flight", old.Cmd.Process.Pid, benchkit.InFlight())
		if err := old.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
			return "", err
		}
		select {
		case <-old.Done:
			exit := "exit 0"
			if old.Err != nil {
				exit = old.Err.Error()
			}
			return fmt.Sprintf("exited (%s) %s after SIGTERM", exit, ms(time.Since(c.start)-site.at)), nil
		case <-time.After(30 * time.Second):
			site.err = errors.New("the site did not exit within 30 s of SIGTERM")
			old.Stop()
			return fmt.Sprintf("%v; killed it", site.err), nil
		}
	}
	site.start = func() (string, error) {
		s, err := c.b.StartSite(ctx)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("new process (pid %d) answers /healthz", s.Cmd.Process.Pid), nil
	}
	c.faults = slices.DeleteFunc([]*fault{meili, pg, site}, func(f *fault) bool { return f.at == 0 })
	for _, f := range c.faults {
		select {
		case <-time.After(time.Until(c.start.Add(f.at))):
		case <-loadCtx.Done():
			return
		}
		f.at = time.Since(c.start)
		said, err := f.stop()
		if err != nil {
			f.err = err
			c.logf("%s: stop failed: %v", f.name, err)
			continue
		}
		f.exited = time.Since(c.start)
		c.logf("%s: %s", f.name, said)
		select {
		case <-time.After(f.down):
		case <-loadCtx.Done():
		}
		if said, err = f.start(); err != nil {
			f.err = errors.Join(f.err, err)
			c.logf("%s: start failed: %v", f.name, err)
			continue
		}
		f.restored = time.Since(c.start)
		c.logf("%s: %s", f.name, said)
	}
}

// --- clients ---

// worker is one client, with what its enquiries came to.
type worker struct {
	*benchkit.Worker
	c                  *chaos
	confirmed          []string // references shown on the confirmation page
	sentNoRef          int
	postKept, postLost int // POSTs refused with a 5xx whose form came back filled in, or not
}

var (
	origins = []string{"af", "sy", "so", "er", "ua", "sd", "ss", "ye", "iq", "cd", "et", "mm"}
	texts   = []string{"mother", "brother", "afghanistan", "somalia", "somlia", "sirya", "مادر", "mère"}
	sentRef = regexp.MustCompile(`<p class="ref" dir="ltr">(?:<bdi>)?([^<]+)(?:</bdi>)?</p>`)
)

// mix is what a visitor does next, each step as often as it is listed: a
// country page (30%), a gallery search (30%), a photo page and its image
// (15%) or an enquiry (25%).
var mix = slices.Concat(slices.Repeat([]string{"country"}, 6), slices.Repeat([]string{"gallery"}, 6), slices.Repeat([]string{"media"}, 3), slices.Repeat([]string{"enquiry"}, 5))

func (w *worker) next(ctx context.Context) benchkit.Rec { return w.step(ctx, w.Pick(mix)) }

// step sends one request of a kind, or a few: media is a photo page and its
// image; enquiry, the form, the post and the confirmation. It returns the
// first failure.
func (w *worker) step(ctx context.Context, kind string) benchkit.Rec {
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
	case "enquiry":
		return w.enquire(ctx, lang)
	}
	ref := w.Pick(w.c.stable)
	r, _, _ := w.Do(ctx, "photo", http.MethodGet, "/"+lang+"/trace-the-face/"+ref, nil, nil)
	if r.Fail != "" {
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
	return strings.TrimSuffix("?"+v.Encode(), "?")
}

// enquire fetches the form (CSRF cookie and token), posts an enquiry and
// reads the confirmation page.
func (w *worker) enquire(ctx context.Context, lang string) benchkit.Rec {
	residence := w.Pick(w.c.res)
	r, _, page := w.Do(ctx, "form", http.MethodGet, "/"+lang+"/contact?country="+residence, nil, func(resp *http.Response, b []byte) (string, string) {
		if resp.StatusCode != http.StatusOK || benchkit.CSRF(b) == "" {
			return "other", fmt.Sprintf("status %d, no _csrf field", resp.StatusCode)
		}
		return "", ""
	})
	if r.Fail != "" {
		return r
	}
	w.Token = benchkit.CSRF(page)
	r, v, page := w.Enquire(ctx, lang, residence, len(w.Recs))
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
	ref := w.Acks[len(w.Acks)-1]
	r, _, _ = w.Do(ctx, "sent", http.MethodGet, "/"+lang+"/contact/sent", nil, func(resp *http.Response, b []byte) (string, string) {
		switch m := sentRef.FindSubmatch(b); {
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

// checkIndex waits for the outbox to drain and `familylinks check-index` to
// agree, up to -drain-timeout, and says how the index compared with
// PostgreSQL after the load.
func (c *chaos) checkIndex(ctx context.Context) (matched bool, said string) {
	t0, drained := time.Now(), time.Duration(-1) // the outbox was empty (-1: never)
	for ; ; time.Sleep(500 * time.Millisecond) {
		pending, _, err := c.st.OutboxStats(ctx)
		if err == nil && pending == 0 {
			if drained < 0 {
				drained = time.Since(t0)
			}
			out, err := c.b.Tool("", "check-index")
			if err == nil {
				return true, fmt.Sprintf("matches PostgreSQL %s after the load (outbox drained in %s): %s",
					time.Since(t0).Round(10*time.Millisecond), drained.Round(10*time.Millisecond), strings.Join(strings.Fields(out), " "))
			}
			said = strings.Join(strings.Fields(err.Error()), " ")
		} else if err != nil {
			said = err.Error()
		}
		if time.Since(t0) > *drainTimeout || ctx.Err() != nil {
			rows, _ := c.st.Pool().Query(ctx, `SELECT format(' [%s attempt %s: %s]', topic, attempts, coalesce(last_error, '')) FROM outbox WHERE done_at IS NULL ORDER BY id LIMIT 3`)
			left, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			return false, fmt.Sprintf("NO MATCH (outbox pending %d): %s%s", pending, said, strings.Join(left, ""))
		}
	}
}

// outboxReport writes the run's outbox messages to outbox.csv and describes
// the slowest ones to be handled.
func (c *chaos) outboxReport(ctx context.Context) string {
	msgs := fmt.Sprintf(`SELECT id, topic, round(extract(epoch FROM created_at)::numeric - %[1]f, 3) created_s, round(extract(epoch FROM done_at)::numeric - %[1]f, 3) done_s,
		attempts, coalesce(last_error, '') last_error FROM outbox WHERE created_at >= to_timestamp(%[1]f)`, float64(c.start.UnixMicro())/1e6)
	conn, err := c.st.Pool().Acquire(ctx)
	if err != nil {
		return "unknown: " + err.Error()
	}
	defer conn.Release()
	var csv strings.Builder
	tag, err := conn.Conn().PgConn().CopyTo(ctx, &csv, "COPY ("+msgs+" ORDER BY id) TO STDOUT WITH CSV HEADER")
	if err == nil {
		err = os.WriteFile(filepath.Join(c.out, "outbox.csv"), []byte(csv.String()), 0o644)
	}
	if err != nil {
		return "unknown: " + err.Error()
	}
	rows, _ := conn.Query(ctx, `SELECT format('#%s %s created at %ss', id, topic, round(created_s, 1)) || CASE WHEN done_s IS NULL THEN format(' NOT DONE after %s attempts', attempts)
		ELSE format(', done at %ss after %s attempts', round(done_s, 1), attempts) END FROM (`+msgs+`) m ORDER BY coalesce(done_s - created_s, 1e9) DESC, id LIMIT 3`)
	slowest, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "unknown: " + err.Error()
	}
	return fmt.Sprintf("%d messages; %s", tag.RowsAffected(), strings.Join(slowest, "; "))
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
	for _, x := range recs.Failed() {
		k.class[x.Fail]++
		if c.expected(&x) {
			k.expected++
		} else {
			k.unexpected++
		}
	}
	return k
}

// readyz is what /readyz said in a window, and when it was ready again.
func (c *chaos) readyz(win *fault) (benchkit.Tally, string) {
	t, lastBad, readyAgain := benchkit.Tally{}, time.Duration(-1), time.Duration(-1)
	for _, s := range c.ready {
		if s.at < win.at || s.at >= win.end {
			continue
		}
		if t[s.what]++; s.what != "ready" {
			lastBad, readyAgain = s.at, -1
		} else if lastBad >= 0 && readyAgain < 0 {
			readyAgain = s.at
		}
	}
	switch {
	case lastBad < 0:
		return t, "stayed ready (" + t.String() + ")"
	case readyAgain < 0:
		return t, "NOT ready again before the window ended (" + t.String() + ")"
	}
	return t, fmt.Sprintf("ready again at +%.2fs (%s)", (readyAgain - win.at).Seconds(), t)
}

// report checks the acknowledged enquiries (the warm-up's too) against
// PostgreSQL, stops the site, and writes the summary and the verdict.
func (c *chaos) report(ctx context.Context, elapsed time.Duration, busy string, matched bool, idx string) (int, error) {
	var ws []*benchkit.Worker
	var confirmed []string
	var sentNoRef, postKept, postLost int
	for _, x := range c.workers {
		ws, confirmed = append(ws, x.Worker), append(confirmed, x.confirmed...)
		sentNoRef, postKept, postLost = sentNoRef+x.sentNoRef, postKept+x.postKept, postLost+x.postLost
	}
	all, acked := benchkit.Collect(ws)
	windows := append([]*fault{{name: "steady"}}, c.faults...) // the load before the first fault, then each fault's
	for i, win := range windows {
		win.end = elapsed
		if i+1 < len(windows) {
			win.end = windows[i+1].at
		}
	}
	d, err := benchkit.CheckDurability(ctx, c.st.Pool(), acked)
	if err != nil {
		return 2, err
	}
	c.b.StopSites()
	outbox := c.outboxReport(ctx)
	sum, err := os.Create(filepath.Join(c.out, "summary.txt"))
	if err != nil {
		return 2, err
	}
	defer sum.Close()
	w := bufio.NewWriter(io.MultiWriter(os.Stdout, sum))
	defer w.Flush()
	fmt.Fprintf(w, "\nchaos: %d clients for %s on %d cores (PostgreSQL, Meilisearch, the site and the clients share them; machine %s busy)\n", *workers, elapsed.Round(time.Millisecond), runtime.NumCPU(), busy)
	fmt.Fprintf(w, "PostgreSQL: throw-away cluster, %s (on for this database, as in production)\n", c.pg)
	fmt.Fprintf(w, "mix: country pages, gallery searches with filters, photo pages and their 320 px image, contact form GET+POST+confirmation; %d languages; a publisher publishing and withdrawing entries every %s\n", len(langs), *publishEvery)
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

	fmt.Fprintf(w, "\nrequests per window (a request belongs to the window in which it ended)\n")
	fmt.Fprintf(w, "  %-12s %-13s %8s %8s %8s %8s %8s %6s %6s %9s %10s %8s\n", "window", "span", "requests", "ok", "refused", "closed", "timeout", "5xx", "other", "expected", "UNEXPECTED", "p99 ok")
	for _, win := range append(windows, &fault{name: "total", end: elapsed + time.Hour}) {
		k := c.count(all.Where(func(x *benchkit.Rec) bool { return x.End >= win.at && x.End < win.end }))
		fmt.Fprintf(w, "  %-12s %-13s %8d %8d %8d %8d %8d %6d %6d %9d %10d %8s\n", win.name, fmt.Sprintf("%.1f-%.1fs", win.at.Seconds(), min(win.end, elapsed).Seconds()),
			k.n, k.ok, k.class["refused"], k.class["closed"], k.class["timeout"], k.class["5xx"], k.class["other"], k.expected, k.unexpected, ms(k.p99))
	}
	fmt.Fprintf(w, "\nrequests per kind, whole run\n")
	fmt.Fprintf(w, "  %-8s %8s %8s %8s %8s %8s %6s %6s %10s %8s\n", "kind", "requests", "ok", "refused", "closed", "timeout", "5xx", "other", "UNEXPECTED", "p99 ok")
	for _, kind := range kinds {
		k := c.count(all.Where(func(x *benchkit.Rec) bool { return x.Kind == kind }))
		fmt.Fprintf(w, "  %-8s %8d %8d %8d %8d %8d %6d %6d %10d %8s\n", kind, k.n, k.ok, k.class["refused"], k.class["closed"], k.class["timeout"], k.class["5xx"], k.class["other"], k.unexpected, ms(k.p99))
	}
	fmt.Fprintf(w, "  expected: connection errors from SIGTERM until %s after the new site answers; 5xx and timeouts of the PostgreSQL kinds (%s) from the stop until %s after the start.\n", *grace, strings.Join(pgKinds, ", "), *grace)
	fmt.Fprintf(w, "  everything else is UNEXPECTED, including any error while Meilisearch is down. closed = connection reset or closed (EOF).\n")

	fmt.Fprintf(w, "\nrecovery, in seconds after each fault was injected (first OK: of a request sent once the engine or the old site was down;\n")
	fmt.Fprintf(w, "for the gallery in the Meilisearch window, the first answer from Meilisearch again, not a degraded one)\n")
	fmt.Fprintf(w, "  %-12s %-8s %7s %8s %9s %9s\n", "fault", "kind", "errors", "last err", "first OK", "requests")
	for _, f := range c.faults {
		fmt.Fprintf(w, "  %-12s down at %s, back at %s\n", f.name, secs(f.exited-f.at), secs(f.restored-f.at))
		for _, kind := range kinds {
			in := all.Where(func(x *benchkit.Rec) bool { return x.Kind == kind && x.End >= f.at && x.End < f.end })
			back := in.OK().Where(func(x *benchkit.Rec) bool {
				return x.Start >= max(f.at, f.exited) && !(f.name == "meilisearch" && x.Degraded)
			})
			lastErr, firstOK := time.Duration(-1), time.Duration(-1)
			if fails := in.Failed(); len(fails) > 0 {
				lastErr = fails[len(fails)-1].End - f.at
			}
			if len(back) > 0 {
				firstOK = back[0].End - f.at
			}
			fmt.Fprintf(w, "  %-12s %-8s %7d %8s %9s %9d\n", f.name, kind, len(in.Failed()), secs(lastErr), secs(firstOK), len(in))
		}
		_, recovery := c.readyz(f)
		fmt.Fprintf(w, "  %-12s %-8s %s\n", f.name, "/readyz", recovery)
	}
	for _, f := range c.faults {
		if f.name == "meilisearch" && f.restored > 0 {
			g := all.Where(func(x *benchkit.Rec) bool { return x.Kind == "gallery" && x.Start >= f.exited && x.End <= f.restored })
			ok := g.OK()
			fmt.Fprintf(w, "\ngallery while Meilisearch was down (%.2fs-%.2fs): kept answering: %s: %d requests, %d OK, %d of them degraded (answered from PostgreSQL), %d errors\n",
				f.exited.Seconds(), f.restored.Seconds(), map[bool]string{true: "YES", false: "NO"}[len(ok) == len(g) && len(g) > 0], len(g), len(ok), len(ok.Where(func(x *benchkit.Rec) bool { return x.Degraded })), len(g)-len(ok))
		}
		if f.name == "site" && f.err == nil {
			k := c.count(all.Where(func(x *benchkit.Rec) bool { return x.Start < f.at && x.End > f.at }))
			fmt.Fprintf(w, "requests in flight when SIGTERM reached the site: %d, of which %d finished OK (graceful shutdown)", k.n, k.ok)
			if k.n > k.ok {
				fmt.Fprintf(w, "; failed: %s (refused: sent just as the listener closed, never reached the site)", k.class)
			}
			fmt.Fprintln(w)
		}
	}

	var pub, said []string // per window: the publisher's operations, and what /readyz said
	for _, win := range windows {
		ops, fails, last := 0, 0, ""
		for _, s := range c.pub {
			if s.at >= win.at && s.at < win.end {
				if ops++; s.err != nil {
					fails, last = fails+1, s.err.Error()
				}
			}
		}
		s := fmt.Sprintf("%s %d ops, %d failed", win.name, ops, fails)
		if len(last) > 80 {
			last = last[:80] + "…"
		}
		if fails > 0 {
			s += fmt.Sprintf(" (%q)", last)
		}
		pub = append(pub, s)
		t, _ := c.readyz(win)
		said = append(said, win.name+": "+t.String())
	}
	fmt.Fprintf(w, "\npublisher (direct store calls, as a caseworker's approval and withdrawal would): %s\n", strings.Join(pub, "; "))
	fmt.Fprintf(w, "readyz states seen (every 100 ms, 5 s timeout as the Kubernetes probe): %s\n", strings.Join(said, "; "))

	fmt.Fprintf(w, "\ndurability check against PostgreSQL\n")
	fmt.Fprintf(w, "  acknowledged enquiries (303 + fl_sent)  %d distinct", len(d.Acked))
	if d.Dups > 0 {
		fmt.Fprintf(w, "; %d DUPLICATE acknowledgements", d.Dups)
	}
	slices.Sort(confirmed)
	fmt.Fprintf(w, "\n  shown on the confirmation page          %d (%d confirmation pages without the reference)\n", len(slices.Compact(confirmed)), sentNoRef)
	fmt.Fprintf(w, "  refused with a 5xx                      %d, of which %d came back as the form with everything typed, %d lost the input\n", postKept+postLost, postKept, postLost)
	fmt.Fprintf(w, "  stored enquiries                        %d\n", len(d.Stored))
	fmt.Fprintf(w, "  acknowledged but missing                %d (must be 0)\n", len(d.Missing))
	fmt.Fprintf(w, "  stored but unacknowledged               %d (the answer was lost: site stopped, timeout, or an error after the commit)\n", d.Unacked)
	fmt.Fprintf(w, "\nindex check after the run: %s\n", idx)
	fmt.Fprintf(w, "outbox messages of the run, the slowest to be done: %s\n", outbox)
	fmt.Fprintf(w, "\nper second (ok / errors):\n  ok   %s\n  err  %s\n", all.OK().PerSecond(elapsed), all.Failed().PerSecond(elapsed))
	fmt.Fprintf(w, "\nsite log (level warn, every process): %s\n", c.b.LogSummary())
	fmt.Fprintf(w, "logs: %s (events.log, site.log, pg.log, meili.log, requests.csv, summary.txt)\n", c.out)
	if err := all.WriteCSV(filepath.Join(c.out, "requests.csv")); err != nil {
		fmt.Fprintf(w, "requests.csv: %v\n", err)
	}

	// The verdict.
	var problems []string
	add := func(cond bool, format string, a ...any) {
		if cond {
			problems = append(problems, fmt.Sprintf(format, a...))
		}
	}
	add(len(d.Missing) > 0, "%d acknowledged enquiries are not in PostgreSQL, e.g. %s", len(d.Missing), strings.Join(d.Missing[:min(len(d.Missing), 10)], " "))
	add(len(d.NotStored(confirmed)) > 0, "%d enquiries shown on a confirmation page are not in PostgreSQL", len(d.NotStored(confirmed)))
	add(len(d.Acked) == 0, "no enquiry was acknowledged")
	add(!matched, "the index does not match PostgreSQL: %s", idx)
	for _, f := range c.faults {
		add(f.err != nil, "the %s fault did not go as planned: %v", f.name, f.err)
	}
	total := c.count(all)
	add(*strict && total.unexpected > 0, "%d unexpected client errors (-strict)", total.unexpected)
	add(*strict && postLost > 0, "%d refused contact forms lost what was typed (-strict)", postLost)
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

func copyFile(from, to string) {
	if b, err := os.ReadFile(from); from != "" && err == nil {
		_ = os.WriteFile(to, b, 0o644)
	}
}

func secs(d time.Duration) string {
	if d < 0 {
		return "-"
	}
	return fmt.Sprintf("+%.2f", d.Seconds())
}

func ms(d time.Duration) string { return benchkit.MS(d, 1) }
