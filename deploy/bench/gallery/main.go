// Command gallery is the Trace the Face benchmark behind `make bench-gallery`.
//
// It starts a throw-away PostgreSQL and Meilisearch through devstack, loads
// synthetic published gallery entries straight into PostgreSQL with COPY,
// times `familylinks reindex`, starts the site (var/bin/familylinks serve) as
// a child, and compares the latency of a filtered gallery page with the same
// search sent to Meilisearch directly:
//
//   - the site: GET /en/trace-the-face?origin=af&seeking=mother with wrk
//     (32 connections, 10 s), and sequentially from one keep-alive client;
//   - Meilisearch: the request body search.SearchFaces sends for that query
//     (captured from the real client, not rewritten by hand), sequentially
//     and from 32 goroutines;
//   - the sequential site and Meilisearch requests alternate in batches of
//     50, so that the machine's changing load weighs on both alike;
//   - once more for pages the site has never shown (page 2, 3, … of the
//     same search, each once, against the same page sent to Meilisearch):
//     the site then keeps nothing of them (hits, cards, content);
//   - for diagnosis, each part of the page alone through the site's own code
//     (search.SearchFaces, store.CheckGallery).
//
// Budgets (PRODUCT.md): reindex of 100k entries at most 15 s; gallery search
// site p50 within 1 ms of Meilisearch queried directly. A missed target is
// reported, not an error: the exit code is non-zero only when the setup fails.
//
// Usage: bash deploy/bench/gallery.sh [flags]   (go run ./deploy/bench/gallery -h)
package main

import (
	"bufio"
	"bytes"
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
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
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
	"github.com/familylinks/familylinks/deploy/bench/benchkit"
	"github.com/familylinks/familylinks/internal/devstack"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/store"
	"github.com/jackc/pgx/v5"
)

type config struct {
	bin      string
	entries  int
	seq      int
	duration time.Duration
	conns    int
	threads  int
	path     string
	hold     bool
	diag     int
	cold     int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "bin", "var/bin/familylinks", "the site binary")
	flag.IntVar(&cfg.entries, "entries", 100_000, "synthetic published entries to load")
	flag.IntVar(&cfg.seq, "n", 2000, "sequential requests to Meilisearch (and to the site)")
	flag.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long wrk and the concurrent Meilisearch load run")
	flag.IntVar(&cfg.conns, "c", 32, "wrk connections, and goroutines for the concurrent Meilisearch load")
	flag.IntVar(&cfg.threads, "t", 2, "wrk threads")
	flag.StringVar(&cfg.path, "path", "/en/trace-the-face?origin=af&seeking=mother", "the gallery URL to load (path and query)")
	flag.IntVar(&cfg.diag, "n-diag", 500, "sequential requests for the diagnostics: each part of the page")
	flag.IntVar(&cfg.cold, "cold", 100, "pages never shown before, for the cold comparison (page 2 onwards, as many as the search has)")
	flag.BoolVar(&cfg.hold, "hold", false, "once the site answers, print the URLs and keep everything running until Ctrl-C (to investigate)")
	flag.Parse()
	if cfg.entries < 1 || cfg.seq < 1 || cfg.diag < 1 || cfg.cold < 1 || cfg.conns < 1 || cfg.threads < 1 || cfg.duration <= 0 {
		fmt.Fprintln(os.Stderr, "bench-gallery: need -entries, -n, -n-diag, -c, -t >= 1 and -duration > 0")
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench-gallery:", err)
		os.Exit(2)
	}
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "bench-gallery: "+format+"\n", a...)
}

func run(cfg config) (err error) {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	bin, err := filepath.Abs(cfg.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%s: %w (build it: go build -o var/bin/familylinks ./cmd/familylinks)", cfg.bin, err)
	}
	wrkBin, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk is missing: install the Debian package wrk (deploy/bench/gallery.sh does when run as root)")
	}
	site, err := url.Parse(cfg.path)
	if err != nil || !strings.HasPrefix(site.Path, "/") {
		return fmt.Errorf("-path %q: want /path?query", cfg.path)
	}
	work, err := os.MkdirTemp("", "familylinks-bench-gallery-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// The postgres user must get through it to its data directory.
	if err := os.Chmod(work, 0o755); err != nil {
		return err
	}

	// 1. Engines, schema, two caseworkers of the German Red Cross.
	t0 := time.Now()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	stack, err := devstack.Start(ctx, devstack.Options{Dir: work, Persistent: false, Log: quiet})
	if err != nil {
		return fmt.Errorf("starting the engines: %w", err)
	}
	defer func() {
		if serr := stack.Stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the engines: %w", serr))
		}
	}()
	logf("PostgreSQL and Meilisearch up in %s", time.Since(t0).Round(time.Millisecond))

	port, err := benchkit.FreePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	base := "http://" + addr
	env := append(benchkit.WithoutFamilyLinksEnv(),
		"DATABASE_URL="+stack.DatabaseURL,
		"MEILI_URL="+stack.MeiliURL,
		"MEILI_API_KEY="+stack.MeiliKey,
		"FAMILYLINKS_AUTO_MIGRATE=true",
		"FAMILYLINKS_ADDR="+addr,
		"FAMILYLINKS_LOG_LEVEL=error",
	)
	env, _, err = benchkit.WithKeys(bin, work, env)
	if err != nil {
		return err
	}
	if _, err := benchkit.Tool(bin, work, env, "", "migrate"); err != nil {
		return err
	}
	for _, email := range []string{"a@drk.example", "b@drk.example"} {
		if _, err := benchkit.Tool(bin, work, env, "bench-gallery-password-"+email[:1]+"\n",
			"staff", "add", "--email", email, "--society", "de", "--role", "caseworker", "--password-stdin"); err != nil {
			return err
		}
	}

	conn, err := pgx.Connect(ctx, stack.DatabaseURL)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	var creator, approver int64
	if err := conn.QueryRow(ctx, `SELECT id FROM staff WHERE email = 'a@drk.example'`).Scan(&creator); err != nil {
		return fmt.Errorf("reading the first caseworker's id: %w", err)
	}
	if err := conn.QueryRow(ctx, `SELECT id FROM staff WHERE email = 'b@drk.example'`).Scan(&approver); err != nil {
		return fmt.Errorf("reading the second caseworker's id: %w", err)
	}

	// 2. Synthetic published entries, straight into PostgreSQL.
	data, err := content.Load()
	if err != nil {
		return err
	}
	rows, err := synthesize(data, cfg.entries, creator, approver, time.Now())
	if err != nil {
		return err
	}
	t1 := time.Now()
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"gallery_entries"}, entryColumns, pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("loading the entries: %w", err)
	}
	loadTime := time.Since(t1)
	rows = nil
	t2 := time.Now()
	if _, err := conn.Exec(ctx, `ANALYZE gallery_entries`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	analyzeTime := time.Since(t2)
	logf("loaded %d entries in %s (ANALYZE %s)", n, loadTime.Round(time.Millisecond), analyzeTime.Round(time.Millisecond))

	// 3. Reindex.
	t3 := time.Now()
	reindexOut, err := benchkit.Tool(bin, work, env, "", "reindex")
	if err != nil {
		return err
	}
	reindexWall := time.Since(t3)
	reindexOut = strings.TrimSpace(reindexOut)
	if !strings.Contains(reindexOut, fmt.Sprintf("reindex: %d published", n)) {
		return fmt.Errorf("reindex did not index the %d entries: %s", n, reindexOut)
	}
	logf("reindex took %s", reindexWall.Round(time.Millisecond))

	// 4. The site.
	siteLogPath := filepath.Join(work, "site.log")
	siteLog, err := os.Create(siteLogPath)
	if err != nil {
		return err
	}
	defer siteLog.Close()
	srv, err := benchkit.StartSite(bin, env, work, siteLog)
	if err != nil {
		return err
	}
	defer srv.Stop()
	hctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = benchkit.WaitHealthy(hctx, srv, base, 10*time.Millisecond)
	cancel()
	if err != nil {
		return fmt.Errorf("the site did not start: %w%s", err, benchkit.Tail(siteLogPath))
	}
	// The site makes its search-only key once it is up; until then the
	// gallery answers from PostgreSQL. Ready means it searches Meilisearch.
	if err := waitReady(ctx, base, 30*time.Second); err != nil {
		return fmt.Errorf("the site never reported ready: %w%s", err, benchkit.Tail(siteLogPath))
	}

	// The exact request search.SearchFaces sends for this page's query,
	// captured from the real client.
	fq, err := faceQuery(site.Query())
	if err != nil {
		return err
	}
	mreq, err := captureSearch(ctx, stack.MeiliKey, fq)
	if err != nil {
		return fmt.Errorf("capturing the search request: %w", err)
	}
	// Sent without compression, as the site's client sends it.
	meili := newMeiliClient(stack.MeiliURL, mreq, cfg.conns)
	first, err := meili.first(ctx)
	if err != nil {
		return fmt.Errorf("searching Meilisearch directly: %w", err)
	}

	pageURL := base + cfg.path
	check, err := checkPage(ctx, pageURL)
	if err != nil {
		return fmt.Errorf("%w%s", err, benchkit.Tail(siteLogPath))
	}
	logf("%s: 200, %q, %d cards", cfg.path, check.status, check.cards)
	if cfg.hold {
		logf("holding until Ctrl-C: site %s  DATABASE_URL=%s  MEILI_URL=%s  MEILI_API_KEY=%s  search body %s",
			base, stack.DatabaseURL, stack.MeiliURL, stack.MeiliKey, mreq.body)
		<-ctx.Done()
		return nil
	}

	// Warm-up: connections, caches, every code path.
	hc := keepAliveClient(cfg.conns)
	for range 50 {
		if _, err := timedGet(ctx, hc, pageURL); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if _, err := meili.one(ctx); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}

	// 5. The site and Meilisearch, sequentially, in alternating batches.
	logf("the site and Meilisearch: %d sequential requests each, alternating in batches of 50", cfg.seq)
	siteSeq, meiliSeq, err := alternate(ctx, cfg.seq, 50,
		func(ctx context.Context) (time.Duration, error) { return timedGet(ctx, hc, pageURL) }, meili.one)
	if err != nil {
		return fmt.Errorf("sequential requests: %w%s", err, benchkit.Tail(siteLogPath))
	}

	// The same page as a browser asks for it, gzipped.
	gz := gzipClient()
	siteGzip, err := sequential(ctx, cfg.diag, func(ctx context.Context) (time.Duration, error) { return timedGet(ctx, gz, pageURL) })
	if err != nil {
		return fmt.Errorf("sequential gzip requests: %w", err)
	}

	// Pages the site has never shown: each once, against the same search.
	cold := int(min(int64(cfg.cold), first.TotalPages-1))
	logf("pages never shown before: %d (page 2 to %d), each once, against the same page from Meilisearch", cold, cold+1)
	siteCold, meiliCold := &latencies{}, &latencies{}
	for p := 2; p <= cold+1; p++ {
		pq := fq
		pq.Page = p
		preq, err := captureSearch(ctx, stack.MeiliKey, pq)
		if err != nil {
			return fmt.Errorf("capturing the search for page %d: %w", p, err)
		}
		v := site.Query()
		v.Set("page", strconv.Itoa(p))
		d, err := timedGet(ctx, hc, base+site.Path+"?"+v.Encode())
		if err != nil {
			return fmt.Errorf("page %d: %w%s", p, err, benchkit.Tail(siteLogPath))
		}
		siteCold.add(d)
		if d, err = newMeiliClient(stack.MeiliURL, preq, 1).withClient(meili.http).one(ctx); err != nil {
			return fmt.Errorf("page %d from Meilisearch: %w", p, err)
		}
		meiliCold.add(d)
	}

	// The parts of the page, through the site's own code, one at a time.
	logf("the page's parts through the site's code: %d each", cfg.diag)
	parts, err := measureParts(ctx, stack, fq, first.refs(), cfg.diag)
	if err != nil {
		return err
	}

	// The site under wrk.
	logf("wrk -t%d -c%d -d%s --latency %s", cfg.threads, cfg.conns, cfg.duration, cfg.path)
	cpu0, siteCPU0 := benchkit.MachineCPU(), benchkit.ProcessCPU(srv.Cmd.Process.Pid)
	wrkOut, err := runWrk(ctx, wrkBin, cfg, pageURL)
	if err != nil {
		return err
	}
	cpu1, siteCPU1 := benchkit.MachineCPU(), benchkit.ProcessCPU(srv.Cmd.Process.Pid)
	wr, err := parseWrk(wrkOut)
	if err != nil {
		return fmt.Errorf("%w\nwrk said:\n%s", err, wrkOut)
	}

	// Meilisearch under the same concurrency.
	logf("Meilisearch: %d goroutines for %s", cfg.conns, cfg.duration)
	mcpu0 := benchkit.MachineCPU()
	meiliConc, err := meili.concurrent(ctx, cfg.conns, cfg.duration)
	if err != nil {
		return fmt.Errorf("concurrent Meilisearch searches: %w", err)
	}
	mcpu1 := benchkit.MachineCPU()

	srv.Stop()
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}

	// 6. Report.
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	line := func(l *latencies) string {
		return fmt.Sprintf("n=%-5d p50 %s  p90 %s  p99 %s  max %s", l.n(), ms(l.pct(.5)), ms(l.pct(.9)), ms(l.pct(.99)), ms(l.pct(1)))
	}
	fmt.Fprintf(w, "Trace the Face gallery: %d synthetic published entries, GET %s\n", n, cfg.path)
	fmt.Fprintf(w, "machine: %d cores shared by wrk (or this program's load), the site, PostgreSQL and Meilisearch (GOMAXPROCS %d):\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "  every number below is measured with all of them on the same cores; none is an isolated figure\n")

	fmt.Fprintf(w, "\nload\n")
	fmt.Fprintf(w, "  entries loaded     %d with COPY in %s (%.0f rows/s); ANALYZE %s\n", n, ms(loadTime), float64(n)/loadTime.Seconds(), ms(analyzeTime))
	fmt.Fprintf(w, "  origins            %s\n", originSummary(ctx, conn))

	fmt.Fprintf(w, "\nreindex (familylinks reindex: a fresh index from PostgreSQL, then a swap)\n")
	fmt.Fprintf(w, "  wall time          %s, target <= 15 s: %s\n", ms(reindexWall), verdict(reindexWall <= 15*time.Second))
	fmt.Fprintf(w, "  it said            %s\n", reindexOut)

	fmt.Fprintf(w, "\nthe page\n")
	fmt.Fprintf(w, "  GET %s -> 200, %q, %d cards; Meilisearch totalHits %d (%s)\n", cfg.path, check.status, check.cards, first.TotalHits, sameCount(check.count, first.TotalHits))
	fmt.Fprintf(w, "  size               %d bytes of HTML (wrk and the sequential clients send no Accept-Encoding, like the\n", check.size)
	fmt.Fprintf(w, "                     Meilisearch client; the grid's <img> URLs are not fetched)\n")

	fmt.Fprintf(w, "\nMeilisearch queried directly: POST %s, master key, keep-alive Go net/http, no compression\n", mreq.path)
	fmt.Fprintf(w, "  body (captured from search.SearchFaces) %s\n", mreq.body)
	fmt.Fprintf(w, "  processingTimeMs   %d (Meilisearch's own figure, first search)\n", first.ProcessingTimeMs)
	fmt.Fprintf(w, "  sequential         %s  (alternating with the site's)\n", line(meiliSeq))
	fmt.Fprintf(w, "  pages 2-%-4d once  %s\n", cold+1, line(meiliCold))
	fmt.Fprintf(w, "  %d goroutines %-4s %s  %.0f req/s  (machine %s busy)\n", cfg.conns, cfg.duration, line(meiliConc),
		float64(meiliConc.n())/meiliConc.elapsed.Seconds(), benchkit.Busy(mcpu1, mcpu0))

	fmt.Fprintf(w, "\nthe site\n")
	fmt.Fprintf(w, "  wrk -t%d -c%d -d%s  %.0f req/s  p50 %s  p75 %s  p90 %s  p99 %s  (%d requests",
		cfg.threads, cfg.conns, cfg.duration, wr.rps, ms(wr.p50), ms(wr.p75), ms(wr.p90), ms(wr.p99), wr.requests)
	if wr.non2xx > 0 {
		fmt.Fprintf(w, ", %d NOT 2xx/3xx", wr.non2xx)
	}
	if wr.socketErrors != "" {
		fmt.Fprintf(w, ", socket errors: %s", wr.socketErrors)
	}
	fmt.Fprintf(w, ")\n")
	siteCPU := siteCPU1 - siteCPU0
	fmt.Fprintf(w, "  CPU under wrk      machine %s busy; the site process %.0f%% of one core (the rest: wrk, PostgreSQL, Meilisearch)\n",
		benchkit.Busy(cpu1, cpu0), 100*siteCPU.Seconds()/cfg.duration.Seconds())
	fmt.Fprintf(w, "  sequential         %s  (one keep-alive Go client, alternating with Meilisearch's)\n", line(siteSeq))
	fmt.Fprintf(w, "  with gzip, seq.    %s  (Accept-Encoding: gzip, as a browser asks: the site compresses, the client inflates)\n", line(siteGzip))
	fmt.Fprintf(w, "  pages 2-%-4d once  %s  (never shown before: no hits, cards or content kept)\n", cold+1, line(siteCold))
	fmt.Fprintf(w, "  what one request does, each part timed alone through the site's own code, sequentially:\n")
	fmt.Fprintf(w, "    search.SearchFaces         %s\n", line(parts.search))
	fmt.Fprintf(w, "    store.CheckGallery (24)    %s  (asked while Meilisearch searches, when the hits were seen before)\n", line(parts.check))
	rest := siteSeq.pct(.5) - parts.search.pct(.5)
	fmt.Fprintf(w, "    the rest                   about %s (site p50 minus the search's p50)\n", ms(rest))

	fmt.Fprintf(w, "\nsite p50 - Meilisearch p50 (target: within 1 ms)\n")
	diff := func(label string, site, meili time.Duration) {
		d := site - meili
		fmt.Fprintf(w, "  %-56s %s - %s = %s  %s\n", label, ms(site), ms(meili), ms(d), verdict(d <= time.Millisecond))
	}
	diff(fmt.Sprintf("wrk (%d connections) vs Meilisearch sequential", cfg.conns), wr.p50, meiliSeq.pct(.5))
	diff(fmt.Sprintf("wrk (%d connections) vs Meilisearch (%d goroutines)", cfg.conns, cfg.conns), wr.p50, meiliConc.pct(.5))
	diff("site sequential vs Meilisearch sequential", siteSeq.pct(.5), meiliSeq.pct(.5))
	diff(fmt.Sprintf("pages never shown before (%d), site vs Meilisearch", cold), siteCold.pct(.5), meiliCold.pct(.5))
	fmt.Fprintf(w, "  Under wrk the site's p50 is mostly queueing: %d connections / %.0f req/s = %s. The sequential line is\n",
		cfg.conns, wr.rps, ms(time.Duration(float64(cfg.conns)/wr.rps*float64(time.Second))))
	fmt.Fprintf(w, "  the like-for-like cost the site adds to one search; the concurrent one uses different load generators\n")
	fmt.Fprintf(w, "  (wrk in C, this program in Go) on the same 2 cores.\n")
	fmt.Fprintf(w, "\nsite log (level error): %s\n", benchkit.SummarizeLog(siteLogPath))
	fmt.Fprintf(w, "\nwrk output:\n%s\n", indent(strings.TrimSpace(wrkOut)))
	return nil
}

type partTimes struct {
	search, check *latencies
}

// measureParts times, one after the other, what the gallery handler calls
// for one page, through the same packages the site uses.
func measureParts(ctx context.Context, stack *devstack.Stack, q search.FaceQuery, refs []string, n int) (*partTimes, error) {
	sc, err := search.New(search.Config{URL: stack.MeiliURL, APIKey: stack.MeiliKey, SearchWithAPIKey: true})
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, stack.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	p := &partTimes{}
	timed := func(f func() error) func(context.Context) (time.Duration, error) {
		return func(context.Context) (time.Duration, error) {
			t := time.Now()
			err := f()
			return time.Since(t), err
		}
	}
	steps := []struct {
		name string
		dst  **latencies
		f    func() error
	}{
		{"search.SearchFaces", &p.search, func() error { _, err := sc.SearchFaces(ctx, q); return err }},
		{"store.CheckGallery", &p.check, func() error { _, err := st.CheckGallery(ctx, refs); return err }},
	}
	for _, s := range steps {
		for range 20 { // warm-up
			if err := s.f(); err != nil {
				return nil, fmt.Errorf("%s: %w", s.name, err)
			}
		}
		l, err := sequential(ctx, n, timed(s.f))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		*s.dst = l
	}
	return p, nil
}

// alternate runs n calls of a and n of b, one after the other, in batches
// of batch: a first, then b, and so on.
func alternate(ctx context.Context, n, batch int, a, b func(context.Context) (time.Duration, error)) (*latencies, *latencies, error) {
	la, lb := &latencies{}, &latencies{}
	for la.n() < n {
		for _, x := range []struct {
			f func(context.Context) (time.Duration, error)
			l *latencies
		}{{a, la}, {b, lb}} {
			for range min(batch, n-x.l.n()) {
				d, err := x.f(ctx)
				if err != nil {
					return nil, nil, err
				}
				x.l.add(d)
			}
		}
	}
	return la, lb, nil
}

func sequential(ctx context.Context, n int, f func(context.Context) (time.Duration, error)) (*latencies, error) {
	l := &latencies{}
	t := time.Now()
	for range n {
		d, err := f(ctx)
		if err != nil {
			return nil, err
		}
		l.add(d)
	}
	l.elapsed = time.Since(t)
	return l, nil
}

// --- synthetic entries ---

var entryColumns = []string{
	"ref", "society", "status", "gender", "age_group", "seeking", "origin", "languages",
	"case_key_id", "case_sealed", "consent_date", "consent_form_version", "consent_recorded_by", "review_date",
	"created_by", "approved_by", "created_at", "published_at", "demo",
}

type weighted[T any] struct {
	v T
	w int
}

func pick[T any](r *rand.Rand, xs []weighted[T]) T {
	total := 0
	for _, x := range xs {
		total += x.w
	}
	n := r.IntN(total)
	for _, x := range xs {
		if n < x.w {
			return x.v
		}
		n -= x.w
	}
	return xs[len(xs)-1].v
}

// Countries of origin: most seekers come from a handful of countries in
// conflict; a long tail covers every other country.
var originWeights = []weighted[string]{
	{"af", 160}, {"sy", 140}, {"ua", 110}, {"so", 90}, {"er", 80}, {"sd", 80}, {"ss", 50},
	{"ye", 50}, {"iq", 50}, {"cd", 45}, {"ir", 25}, {"et", 25}, {"ng", 20}, {"mm", 20},
	{"ve", 20}, {"ps", 20}, {"ml", 15}, {"ly", 15}, {"pk", 15}, {"bd", 12}, {"cf", 12},
	{"gn", 10}, {"ci", 10}, {"cm", 10}, {"ht", 10}, {"co", 8}, {"tr", 8}, {"lb", 8},
	{"ru", 6}, {"dz", 6}, {"ma", 6}, {"tn", 6}, {"eg", 6}, {"bi", 6}, {"rw", 5},
	{"ug", 5}, {"ke", 5}, {"ne", 5}, {"td", 5}, {"bf", 5}, {"sn", 5}, {"gm", 5},
}

// tailShare is the weight of "any other country" (about 15% of entries),
// spread evenly over the countries not listed above.
const tailShare = 250

var languagesByOrigin = map[string][]string{
	"af": {"ps", "fa"}, "sy": {"ar", "ku"}, "ua": {"uk", "ru"}, "so": {"so"}, "er": {"ti", "ar"},
	"sd": {"ar"}, "ss": {"en", "ar"}, "ye": {"ar"}, "iq": {"ar", "ku"}, "cd": {"fr", "ln", "sw"},
	"ir": {"fa"}, "et": {"am", "om"}, "ng": {"en", "ha"}, "mm": {"my"}, "ve": {"es"},
	"ps": {"ar"}, "ml": {"fr", "bm"}, "ly": {"ar"}, "pk": {"ur"}, "bd": {"bn"}, "cf": {"fr", "sg"},
	"ru": {"ru"}, "tr": {"tr", "ku"}, "co": {"es"}, "ht": {"fr", "ht"},
}

var genders = []weighted[string]{{"female", 45}, {"male", 50}, {"other", 5}}
var ageGroups = []weighted[string]{{"15-17", 8}, {"18-29", 35}, {"30-44", 30}, {"45-59", 18}, {"60+", 9}}
var relationships = []weighted[string]{
	{"mother", 18}, {"father", 14}, {"son", 10}, {"daughter", 9}, {"brother", 12}, {"sister", 10},
	{"husband", 6}, {"wife", 7}, {"grandparent", 2}, {"grandchild", 2}, {"uncle-aunt", 3},
	{"nephew-niece", 2}, {"cousin", 3}, {"other", 2},
}

const refAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// ref is entry i's public reference: a bijection of i onto six base-36
// characters (2654435761 is prime to 36^6), so refs are unique and look random.
func ref(i int) string {
	const space = 36 * 36 * 36 * 36 * 36 * 36
	n := (uint64(i)*2654435761 + 12345) % space
	var b [6]byte
	for k := 5; k >= 0; k-- {
		b[k] = refAlphabet[n%36]
		n /= 36
	}
	return "TTF-" + string(b[:])
}

func synthesize(data *content.Data, n int, creator, approver int64, now time.Time) ([][]any, error) {
	heavy := map[string]bool{}
	for _, o := range originWeights {
		if _, ok := data.Country(o.v); !ok {
			return nil, fmt.Errorf("origin %q is not in content/countries.json", o.v)
		}
		heavy[o.v] = true
	}
	var tail []string
	for _, c := range data.Countries {
		if !heavy[c.ISO2] {
			tail = append(tail, c.ISO2)
		}
	}
	// Scaled by the tail's length so that the tail as a whole weighs tailShare.
	var origins []weighted[string]
	for _, o := range originWeights {
		origins = append(origins, weighted[string]{o.v, o.w * len(tail)})
	}
	for _, c := range tail {
		origins = append(origins, weighted[string]{c, tailShare})
	}
	r := rand.New(rand.NewPCG(2026, 11))
	sealed := bytes.Repeat([]byte{0xbe}, 48) // a stand-in for a sealed case reference
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	rows := make([][]any, n)
	for i := range rows {
		origin := pick(r, origins)
		seeking := []string{pick(r, relationships)}
		for want := 1 + r.IntN(3); len(seeking) < want; {
			if s := pick(r, relationships); !slices.Contains(seeking, s) {
				seeking = append(seeking, s)
			}
		}
		langs := slices.Clone(languagesByOrigin[origin])
		if len(langs) > 1 && r.IntN(3) == 0 {
			langs = langs[:1]
		}
		if r.IntN(4) == 0 && !slices.Contains(langs, "en") {
			langs = append(langs, "en")
		}
		if langs == nil {
			langs = []string{}
		}
		published := now.Add(-time.Duration(r.Int64N(int64(730 * 24 * time.Hour))))
		created := published.Add(-time.Duration(1+r.IntN(7*24)) * time.Hour)
		consent := time.Date(created.Year(), created.Month(), created.Day(), 0, 0, 0, 0, time.UTC)
		review := today.AddDate(0, 0, 1+r.IntN(365))
		rows[i] = []any{
			ref(i), "de", "published", pick(r, genders), pick(r, ageGroups), seeking, origin, langs,
			"bench", sealed, consent, "TTF-consent-2025-1", "DRK Suchdienst (bench)", review,
			creator, approver, created, published, true,
		}
	}
	return rows, nil
}

func originSummary(ctx context.Context, conn *pgx.Conn) string {
	rows, _ := conn.Query(ctx, `SELECT origin, count(*) FROM gallery_entries GROUP BY origin ORDER BY count(*) DESC, origin`)
	type oc struct {
		Origin string
		N      int
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[oc])
	if err != nil {
		return "unknown: " + err.Error()
	}
	var parts []string
	for _, x := range got[:min(len(got), 10)] {
		parts = append(parts, fmt.Sprintf("%s %d", x.Origin, x.N))
	}
	return fmt.Sprintf("%d countries; %s, …", len(got), strings.Join(parts, ", "))
}

// --- the site ---

type pageCheck struct {
	status string // the count line, e.g. "2,345 people"
	count  int64  // its digits
	cards  int
	size   int
}

var (
	countLine  = regexp.MustCompile(`<p role="status">([^<]*)</p>`)
	degradedRe = regexp.MustCompile(`<p class="banner" role="status">`)
	cardRe     = regexp.MustCompile(`<span class="ref" dir="ltr">TTF-`)
	nonDigits  = regexp.MustCompile(`[^0-9]`)
)

// checkPage fetches the page once: it must answer 200 from the search
// engine (not the PostgreSQL fallback) with a count and a grid.
func checkPage(ctx context.Context, u string) (pageCheck, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return pageCheck{}, fmt.Errorf("GET %s: %w", u, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return pageCheck{}, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return pageCheck{}, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if degradedRe.Match(body) {
		return pageCheck{}, fmt.Errorf("GET %s: the page says search is degraded (answered from PostgreSQL, not Meilisearch)", u)
	}
	m := countLine.FindSubmatch(body)
	if m == nil {
		return pageCheck{}, fmt.Errorf("GET %s: no result count on the page", u)
	}
	pc := pageCheck{status: strings.TrimSpace(string(m[1])), cards: len(cardRe.FindAllIndex(body, -1)), size: len(body)}
	pc.count, _ = strconv.ParseInt(nonDigits.ReplaceAllString(pc.status, ""), 10, 64)
	if pc.count == 0 || pc.cards == 0 {
		return pc, fmt.Errorf("GET %s: no results (%q, %d cards)", u, pc.status, pc.cards)
	}
	return pc, nil
}

func sameCount(page, hits int64) string {
	if page == hits {
		return "the page shows the same count"
	}
	return fmt.Sprintf("the page shows %d: DIFFERENT", page)
}

// waitReady polls /readyz until it says ready, up to limit.
func waitReady(ctx context.Context, base string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	c := &http.Client{Timeout: time.Second}
	for {
		var body struct{ Status string }
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if resp, err := c.Do(req); err == nil {
			_ = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
		}
		if body.Status == "ready" {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("/readyz: %q", body.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// keepAliveClient asks for no compression, like wrk and like the
// Meilisearch client it is compared with; gzipClient asks for it, as a
// browser does.
func keepAliveClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			DisableCompression:  true,
			DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        max(100, conns),
			MaxIdleConnsPerHost: max(100, conns),
			IdleConnTimeout:     90 * time.Second,
		},
	}
}

func gzipClient() *http.Client {
	c := keepAliveClient(1)
	c.Transport.(*http.Transport).DisableCompression = false
	return c
}

func timedGet(ctx context.Context, c *http.Client, u string) (time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	t := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return d, nil
}

// faceQuery is the search the gallery page makes for these URL parameters
// (site/gallery/public.go: 24 per page, page 1).
func faceQuery(v url.Values) (search.FaceQuery, error) {
	q := search.FaceQuery{Text: strings.TrimSpace(v.Get("q")), Gender: v.Get("gender"), AgeGroup: v.Get("age"),
		Origin: strings.ToLower(v.Get("origin")), Seeking: v.Get("seeking"), PerPage: 24, Page: 1}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return q, fmt.Errorf("bad page %q", p)
		}
		q.Page = n
	}
	return q, nil
}

// --- Meilisearch directly ---

type capturedRequest struct {
	path   string
	header http.Header
	body   []byte
}

// captureSearch runs search.SearchFaces against a recorder and returns the
// HTTP request it made: the path, headers and body the site sends.
func captureSearch(ctx context.Context, key string, q search.FaceQuery) (*capturedRequest, error) {
	var got *capturedRequest
	var mu sync.Mutex
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = &capturedRequest{path: r.URL.Path, header: r.Header.Clone(), body: body}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"hits":[],"query":"","processingTimeMs":0,"hitsPerPage":24,"page":1,"totalPages":0,"totalHits":0,"facetDistribution":{}}`)
	}))
	defer rec.Close()
	sc, err := search.New(search.Config{URL: rec.URL, APIKey: key, SearchWithAPIKey: true})
	if err != nil {
		return nil, err
	}
	if _, err := sc.SearchFaces(ctx, q); err != nil {
		return nil, err
	}
	mu.Lock()
	defer mu.Unlock()
	if got == nil || !strings.HasSuffix(got.path, "/search") {
		return nil, errors.New("SearchFaces sent no search request")
	}
	for _, h := range []string{"Content-Length", "Accept-Encoding", "User-Agent", "Connection"} {
		got.header.Del(h)
	}
	return got, nil
}

type meiliClient struct {
	url  string
	req  *capturedRequest
	http *http.Client
}

// newMeiliClient sends req with the transport settings of Go's default
// client, without compression, as the site asks for none.
func newMeiliClient(base string, req *capturedRequest, conns int) *meiliClient {
	t := &http.Transport{
		DisableCompression:    true,
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          max(100, conns),
		MaxIdleConnsPerHost:   max(100, conns),
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
	return &meiliClient{url: base + req.path, req: req, http: &http.Client{Transport: t, Timeout: 10 * time.Second}}
}

// withClient sends through c, to share its kept-alive connections.
func (m *meiliClient) withClient(c *http.Client) *meiliClient {
	m.http = c
	return m
}

func (m *meiliClient) do(ctx context.Context) ([]byte, time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.url, bytes.NewReader(m.req.body))
	for k, v := range m.req.header {
		req.Header[k] = v
	}
	t := time.Now()
	resp, err := m.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	d := time.Since(t)
	if err != nil {
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("POST %s: %s: %.300s", m.url, resp.Status, body)
	}
	return body, d, nil
}

func (m *meiliClient) one(ctx context.Context) (time.Duration, error) {
	_, d, err := m.do(ctx)
	return d, err
}

type searchResult struct {
	TotalHits         int64                       `json:"totalHits"`
	TotalPages        int64                       `json:"totalPages"`
	ProcessingTimeMs  int64                       `json:"processingTimeMs"`
	Hits              []json.RawMessage           `json:"hits"`
	FacetDistribution map[string]map[string]int64 `json:"facetDistribution"`
}

// refs are the references of the hits, in order.
func (r *searchResult) refs() []string {
	out := make([]string, 0, len(r.Hits))
	for _, h := range r.Hits {
		var f struct{ Ref string }
		if json.Unmarshal(h, &f) == nil {
			out = append(out, f.Ref)
		}
	}
	return out
}

func (m *meiliClient) first(ctx context.Context) (*searchResult, error) {
	body, _, err := m.do(ctx)
	if err != nil {
		return nil, err
	}
	var r searchResult
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	if r.TotalHits == 0 || len(r.Hits) == 0 || len(r.FacetDistribution) == 0 {
		return nil, fmt.Errorf("no hits or no facets: %.300s", body)
	}
	return &r, nil
}

func (m *meiliClient) concurrent(ctx context.Context, workers int, d time.Duration) (*latencies, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deadline := time.Now().Add(d)
	per := make([]*latencies, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range workers {
		per[i] = &latencies{}
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				lat, err := m.one(ctx)
				if err != nil {
					errs[i] = err
					cancel()
					return
				}
				per[i].add(lat)
			}
		})
	}
	wg.Wait()
	all := &latencies{elapsed: time.Since(start)}
	for _, p := range per {
		all.d = append(all.d, p.d...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return all, nil
}

// --- wrk ---

type wrkResult struct {
	rps                float64
	p50, p75, p90, p99 time.Duration
	requests, non2xx   int64
	socketErrors       string
}

func runWrk(ctx context.Context, bin string, cfg config, u string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, "-t"+strconv.Itoa(cfg.threads), "-c"+strconv.Itoa(cfg.conns),
		"-d"+strconv.Itoa(max(1, int(cfg.duration.Round(time.Second).Seconds())))+"s", "--latency", u)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("wrk: %w: %s%s", err, errb.String(), out.String())
	}
	return out.String(), nil
}

var (
	wrkRPS      = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([0-9.]+(?:us|ms|s|m))\s*$`)
	wrkRequests = regexp.MustCompile(`(?m)^\s+([0-9]+) requests in`)
	wrkNon2xx   = regexp.MustCompile(`(?m)Non-2xx or 3xx responses:\s+([0-9]+)`)
	wrkSocket   = regexp.MustCompile(`(?m)Socket errors:\s+(.*)$`)
)

func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkRPS.FindStringSubmatch(out)
	if m == nil {
		return r, errors.New("wrk: no Requests/sec in its output")
	}
	r.rps, _ = strconv.ParseFloat(m[1], 64)
	for _, p := range wrkPct.FindAllStringSubmatch(out, -1) {
		d, err := time.ParseDuration(p[2])
		if err != nil {
			return r, fmt.Errorf("wrk: latency %q: %w", p[2], err)
		}
		switch p[1] {
		case "50":
			r.p50 = d
		case "75":
			r.p75 = d
		case "90":
			r.p90 = d
		case "99":
			r.p99 = d
		}
	}
	if r.p50 == 0 || r.p99 == 0 {
		return r, errors.New("wrk: no latency distribution in its output")
	}
	if m := wrkRequests.FindStringSubmatch(out); m != nil {
		r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		r.socketErrors = strings.TrimSpace(m[1])
	}
	return r, nil
}

// --- numbers ---

type latencies struct {
	d       []time.Duration
	elapsed time.Duration
	sorted  bool
}

func (l *latencies) add(d time.Duration) { l.d = append(l.d, d) }
func (l *latencies) n() int              { return len(l.d) }

// pct is the nearest-rank percentile.
func (l *latencies) pct(p float64) time.Duration {
	if len(l.d) == 0 {
		return 0
	}
	if !l.sorted {
		slices.Sort(l.d)
		l.sorted = true
	}
	i := int(p*float64(len(l.d))+0.5) - 1
	return l.d[min(max(i, 0), len(l.d)-1)]
}

func ms(d time.Duration) string { return benchkit.MS(d, 2) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
