// Command gallery is the Trace the Face benchmark behind `make bench-gallery`.
//
// It loads synthetic published entries into a throw-away PostgreSQL with
// COPY, times `familylinks reindex` (target: 100k entries in 15 s), and
// compares the gallery page with the same search sent to Meilisearch
// directly, as search.SearchFaces sends it (target: site p50 within 1 ms):
// under wrk and from as many goroutines; sequentially, alternating in
// batches of 50; for pages never shown before (page 2, 3, … once each); and,
// for diagnosis, each part of the page through the site's own code. A missed
// target is reported; the exit code is non-zero only when the setup fails.
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
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/deploy/bench/benchkit"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/store"
	"github.com/jackc/pgx/v5"
)

var (
	entries  = flag.Int("entries", 100_000, "synthetic published entries to load")
	seqN     = flag.Int("n", 2000, "sequential requests to Meilisearch (and to the site)")
	duration = flag.Duration("duration", 10*time.Second, "how long wrk and the concurrent Meilisearch load run")
	conns    = flag.Int("c", 32, "wrk connections, and goroutines for the concurrent Meilisearch load")
	threads  = flag.Int("t", 2, "wrk threads")
	path     = flag.String("path", "/en/trace-the-face?origin=af&seeking=mother", "the gallery URL to load (path and query)")
	diagN    = flag.Int("n-diag", 500, "sequential requests for the diagnostics: each part of the page")
	coldN    = flag.Int("cold", 100, "pages never shown before, for the cold comparison (page 2 onwards, as many as the search has)")
	hold     = flag.Bool("hold", false, "once the site answers, print the URLs and keep everything running until Ctrl-C (to investigate)")
)

func main() {
	flag.Parse()
	u, err := url.Parse(*path)
	benchkit.Usage(*entries >= 1 && *seqN >= 1 && *diagN >= 1 && *coldN >= 1 && *conns >= 1 && *threads >= 1 && *duration > 0 && err == nil && strings.HasPrefix(u.Path, "/"),
		"bench-gallery", "need -entries, -n, -n-diag, -c, -t >= 1, -duration > 0 and -path /path?query")
	_, err = exec.LookPath("wrk")
	benchkit.Usage(err == nil, "bench-gallery", "wrk is missing: install the Debian package wrk (deploy/bench/gallery.sh does when run as root)")
	benchkit.Main(benchkit.Options{Name: "bench-gallery", Meili: true, Env: []string{"FAMILYLINKS_AUTO_MIGRATE=true", "FAMILYLINKS_LOG_LEVEL=error"}},
		func(ctx context.Context, b *benchkit.Bench) (int, error) { return 0, run(ctx, b, u) })
}

type lat = benchkit.Latencies

// figures is everything the report shows.
type figures struct {
	n                               int64
	load, analyze, reindex, siteCPU time.Duration
	reindexSaid, origins, wrkOut    string
	busyWrk, busyConc               string
	page                            pageCheck
	meili                           *capture
	first                           struct {
		TotalHits, TotalPages, ProcessingTimeMs int64
		Hits                                    []struct{ Ref string }
		FacetDistribution                       map[string]any
	}
	cold                               int
	siteSeq, meiliSeq, gzip, meiliConc *lat
	siteCold, meiliCold, search, check *lat
	wrk                                map[string]string
}

func run(ctx context.Context, b *benchkit.Bench, u *url.URL) error {
	var f figures
	if err := f.loadAndReindex(ctx, b); err != nil {
		return err
	}
	if err := f.measure(ctx, b, u); err != nil || *hold {
		return err
	}
	f.report(bufio.NewWriter(os.Stdout), b)
	return nil
}

// loadAndReindex loads the entries with COPY, published by two caseworkers
// of the German Red Cross, and times the reindex.
func (f *figures) loadAndReindex(ctx context.Context, b *benchkit.Bench) error {
	conn, err := pgx.Connect(ctx, b.Stack.DatabaseURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, email := range []string{"a@drk.example", "b@drk.example"} {
		if err := b.AddStaff(email, "caseworker", ""); err != nil {
			return err
		}
	}
	var ids []int64
	if err := conn.QueryRow(ctx, `SELECT array_agg(id ORDER BY email) FROM staff WHERE email LIKE '_@drk.example'`).Scan(&ids); err != nil || len(ids) != 2 {
		return fmt.Errorf("reading the caseworkers' ids: %v", err)
	}
	rows, err := synthesize(*entries, ids[0], ids[1], time.Now())
	if err != nil {
		return err
	}
	t := time.Now()
	if f.n, err = conn.CopyFrom(ctx, pgx.Identifier{"gallery_entries"}, entryColumns, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("loading the entries: %w", err)
	}
	f.load, t = time.Since(t), time.Now()
	if _, err := conn.Exec(ctx, `ANALYZE gallery_entries`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	f.analyze = time.Since(t)
	b.Logf("loaded %d entries in %s (ANALYZE %s)", f.n, f.load.Round(time.Millisecond), f.analyze.Round(time.Millisecond))
	if err := conn.QueryRow(ctx, `SELECT count(*) || ' countries; ' || string_agg(origin || ' ' || n, ', ' ORDER BY n DESC, origin) FILTER (WHERE rank <= 10) || ', …'
		FROM (SELECT origin, count(*) n, row_number() OVER (ORDER BY count(*) DESC, origin) rank FROM gallery_entries GROUP BY origin) o`).Scan(&f.origins); err != nil {
		f.origins = "unknown: " + err.Error()
	}
	t = time.Now()
	if f.reindexSaid, err = b.Tool("", "reindex"); err != nil {
		return err
	}
	f.reindex, f.reindexSaid = time.Since(t), strings.TrimSpace(f.reindexSaid)
	if !strings.Contains(f.reindexSaid, fmt.Sprintf("reindex: %d published", f.n)) {
		return fmt.Errorf("reindex did not index the %d entries: %s", f.n, f.reindexSaid)
	}
	b.Logf("reindex took %s", f.reindex.Round(time.Millisecond))
	return nil
}

// measure starts the site and times the page and Meilisearch every way.
func (f *figures) measure(ctx context.Context, b *benchkit.Bench, u *url.URL) (err error) {
	site, err := b.StartSite(ctx)
	if err != nil {
		return err
	}
	if err := b.WaitReady(ctx); err != nil { // searching Meilisearch, not PostgreSQL
		return err
	}
	fq, err := faceQuery(u.Query())
	if err != nil {
		return err
	}
	if f.meili, err = captureSearch(ctx, b, fq); err != nil {
		return fmt.Errorf("capturing the search request: %w", err)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: benchkit.Transport(*conns)}
	body, _, err := f.meili.do(ctx, hc)
	if err == nil {
		err = json.Unmarshal(body, &f.first)
	}
	if err == nil && (f.first.TotalHits == 0 || len(f.first.Hits) == 0 || len(f.first.FacetDistribution) == 0) {
		err = fmt.Errorf("no hits or no facets: %.300s", body)
	}
	if err != nil {
		return fmt.Errorf("searching Meilisearch directly: %w", err)
	}
	pageURL := b.Base + *path
	if f.page, err = checkPage(ctx, pageURL); err != nil {
		return fmt.Errorf("%w%s", err, b.Tail())
	}
	b.Logf("%s: 200, %q, %d cards", *path, f.page.status, f.page.cards)
	if *hold {
		b.Logf("holding until Ctrl-C: site %s  DATABASE_URL=%s  MEILI_URL=%s  MEILI_API_KEY=%s  search body %s", b.Base, b.Stack.DatabaseURL, b.Stack.MeiliURL, b.Stack.MeiliKey, f.meili.body)
		<-ctx.Done()
		return nil
	}
	getPage := func(ctx context.Context) (time.Duration, error) { return timedGet(ctx, hc, pageURL) }
	meili := func(ctx context.Context) (time.Duration, error) { _, d, err := f.meili.do(ctx, hc); return d, err }
	if _, _, err := alternate(ctx, 50, 1, getPage, meili); err != nil { // warm-up: connections, caches, code paths
		return fmt.Errorf("warm-up: %w", err)
	}
	b.Logf("the site and Meilisearch: %d sequential requests each, alternating in batches of 50", *seqN)
	if f.siteSeq, f.meiliSeq, err = alternate(ctx, *seqN, 50, getPage, meili); err != nil {
		return fmt.Errorf("sequential requests: %w%s", err, b.Tail())
	}
	gz := &http.Client{Timeout: 10 * time.Second, Transport: benchkit.Transport(1)}
	gz.Transport.(*http.Transport).DisableCompression = false // as a browser asks
	if f.gzip, _, err = alternate(ctx, *diagN, *diagN, func(ctx context.Context) (time.Duration, error) { return timedGet(ctx, gz, pageURL) }, nil); err != nil {
		return fmt.Errorf("sequential gzip requests: %w", err)
	}

	f.cold = int(min(int64(*coldN), f.first.TotalPages-1))
	b.Logf("pages never shown before: %d (page 2 to %d), each once, against the same page from Meilisearch", f.cold, f.cold+1)
	f.siteCold, f.meiliCold = &lat{}, &lat{}
	for p := 2; p <= f.cold+1; p++ {
		pq, v := fq, u.Query()
		pq.Page = p
		v.Set("page", strconv.Itoa(p))
		pc, err := captureSearch(ctx, b, pq)
		if err != nil {
			return fmt.Errorf("capturing the search for page %d: %w", p, err)
		}
		d, err := timedGet(ctx, hc, b.Base+u.Path+"?"+v.Encode())
		if err != nil {
			return fmt.Errorf("page %d: %w%s", p, err, b.Tail())
		}
		f.siteCold.Add(d)
		if _, d, err = pc.do(ctx, hc); err != nil {
			return fmt.Errorf("page %d from Meilisearch: %w", p, err)
		}
		f.meiliCold.Add(d)
	}

	b.Logf("the page's parts through the site's code: %d each", *diagN)
	if err := f.measureParts(ctx, b, fq); err != nil {
		return err
	}
	b.Logf("wrk -t%d -c%d -d%s --latency %s", *threads, *conns, *duration, *path)
	cpu0, siteCPU0 := benchkit.MachineCPU(), benchkit.ProcessCPU(site.Cmd.Process.Pid)
	if err := f.runWrk(ctx, pageURL); err != nil {
		return err
	}
	f.busyWrk, f.siteCPU = benchkit.Busy(benchkit.MachineCPU(), cpu0), benchkit.ProcessCPU(site.Cmd.Process.Pid)-siteCPU0
	b.Logf("Meilisearch: %d goroutines for %s", *conns, *duration)
	cpu0 = benchkit.MachineCPU()
	if f.meiliConc, err = concurrent(ctx, *conns, *duration, meili); err != nil {
		return fmt.Errorf("concurrent Meilisearch searches: %w", err)
	}
	f.busyConc = benchkit.Busy(benchkit.MachineCPU(), cpu0)
	b.StopSites()
	return ctx.Err()
}

// measureParts times, one after the other, what the gallery handler calls
// for one page, through the same packages the site uses.
func (f *figures) measureParts(ctx context.Context, b *benchkit.Bench, q search.FaceQuery) error {
	sc, err := search.New(search.Config{URL: b.Stack.MeiliURL, APIKey: b.Stack.MeiliKey, SearchWithAPIKey: true})
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, b.Stack.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	var refs []string
	for _, h := range f.first.Hits {
		refs = append(refs, h.Ref)
	}
	search := func(ctx context.Context) (time.Duration, error) { // its errors say search: search faces: …
		t := time.Now()
		_, err := sc.SearchFaces(ctx, q)
		return time.Since(t), err
	}
	check := func(ctx context.Context) (time.Duration, error) { // store: check gallery: …
		t := time.Now()
		_, err := st.CheckGallery(ctx, refs)
		return time.Since(t), err
	}
	if _, _, err = alternate(ctx, 20, 20, search, check); err == nil { // warm-up
		f.search, f.check, err = alternate(ctx, *diagN, *diagN, search, check) // one after the other
	}
	return err
}

func (f *figures) report(w *bufio.Writer, b *benchkit.Bench) {
	defer w.Flush()
	line := func(l *lat) string { return fmt.Sprintf("n=%-5d %s", l.N(), l.Summary(2)) }
	wrk := func(p string) time.Duration { d, _ := time.ParseDuration(f.wrk[p]); return d }
	rps, _ := strconv.ParseFloat(f.wrk["rps"], 64)
	same := "the page shows the same count"
	if f.page.count != f.first.TotalHits {
		same = fmt.Sprintf("the page shows %d: DIFFERENT", f.page.count)
	}
	fmt.Fprintf(w, "Trace the Face gallery: %d synthetic published entries, GET %s\n", f.n, *path)
	fmt.Fprintf(w, "machine: %d cores shared by wrk (or this program's load), the site, PostgreSQL and Meilisearch (GOMAXPROCS %d):\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "  every number below is measured with all of them on the same cores; none is an isolated figure\n")
	fmt.Fprintf(w, "\nload\n")
	fmt.Fprintf(w, "  entries loaded     %d with COPY in %s (%.0f rows/s); ANALYZE %s\n", f.n, ms(f.load), float64(f.n)/f.load.Seconds(), ms(f.analyze))
	fmt.Fprintf(w, "  origins            %s\n", f.origins)
	fmt.Fprintf(w, "\nreindex (familylinks reindex: a fresh index from PostgreSQL, then a swap)\n")
	fmt.Fprintf(w, "  wall time          %s, target <= 15 s: %s\n", ms(f.reindex), verdict(f.reindex <= 15*time.Second))
	fmt.Fprintf(w, "  it said            %s\n", f.reindexSaid)
	fmt.Fprintf(w, "\nthe page\n")
	fmt.Fprintf(w, "  GET %s -> 200, %q, %d cards; Meilisearch totalHits %d (%s)\n", *path, f.page.status, f.page.cards, f.first.TotalHits, same)
	fmt.Fprintf(w, "  size               %d bytes of HTML (wrk and the sequential clients send no Accept-Encoding, like the\n", f.page.size)
	fmt.Fprintf(w, "                     Meilisearch client; the grid's <img> URLs are not fetched)\n")
	fmt.Fprintf(w, "\nMeilisearch queried directly: POST %s, master key, keep-alive Go net/http, no compression\n", f.meili.path)
	fmt.Fprintf(w, "  body (captured from search.SearchFaces) %s\n", f.meili.body)
	fmt.Fprintf(w, "  processingTimeMs   %d (Meilisearch's own figure, first search)\n", f.first.ProcessingTimeMs)
	fmt.Fprintf(w, "  sequential         %s  (alternating with the site's)\n", line(f.meiliSeq))
	fmt.Fprintf(w, "  pages 2-%-4d once  %s\n", f.cold+1, line(f.meiliCold))
	fmt.Fprintf(w, "  %d goroutines %-4s %s  %.0f req/s  (machine %s busy)\n", *conns, *duration, line(f.meiliConc), float64(f.meiliConc.N())/f.meiliConc.Elapsed.Seconds(), f.busyConc)
	fmt.Fprintf(w, "\nthe site\n")
	fmt.Fprintf(w, "  wrk -t%d -c%d -d%s  %.0f req/s  p50 %s  p75 %s  p90 %s  p99 %s  (%s requests%s%s)\n", *threads, *conns, *duration,
		rps, ms(wrk("50")), ms(wrk("75")), ms(wrk("90")), ms(wrk("99")), f.wrk["requests"], f.wrk["non2xx"], f.wrk["socket"])
	fmt.Fprintf(w, "  CPU under wrk      machine %s busy; the site process %.0f%% of one core (the rest: wrk, PostgreSQL, Meilisearch)\n", f.busyWrk, 100*f.siteCPU.Seconds()/duration.Seconds())
	fmt.Fprintf(w, "  sequential         %s  (one keep-alive Go client, alternating with Meilisearch's)\n", line(f.siteSeq))
	fmt.Fprintf(w, "  with gzip, seq.    %s  (Accept-Encoding: gzip, as a browser asks: the site compresses, the client inflates)\n", line(f.gzip))
	fmt.Fprintf(w, "  pages 2-%-4d once  %s  (never shown before: no hits, cards or content kept)\n", f.cold+1, line(f.siteCold))
	fmt.Fprintf(w, "  what one request does, each part timed alone through the site's own code, sequentially:\n")
	fmt.Fprintf(w, "    search.SearchFaces         %s\n", line(f.search))
	fmt.Fprintf(w, "    store.CheckGallery (24)    %s  (asked while Meilisearch searches, when the hits were seen before)\n", line(f.check))
	fmt.Fprintf(w, "    the rest                   about %s (site p50 minus the search's p50)\n", ms(f.siteSeq.Pct(.5)-f.search.Pct(.5)))
	fmt.Fprintf(w, "\nsite p50 - Meilisearch p50 (target: within 1 ms)\n")
	diff := func(label string, site, meili time.Duration) {
		fmt.Fprintf(w, "  %-56s %s - %s = %s  %s\n", label, ms(site), ms(meili), ms(site-meili), verdict(site-meili <= time.Millisecond))
	}
	diff(fmt.Sprintf("wrk (%d connections) vs Meilisearch sequential", *conns), wrk("50"), f.meiliSeq.Pct(.5))
	diff(fmt.Sprintf("wrk (%d connections) vs Meilisearch (%d goroutines)", *conns, *conns), wrk("50"), f.meiliConc.Pct(.5))
	diff("site sequential vs Meilisearch sequential", f.siteSeq.Pct(.5), f.meiliSeq.Pct(.5))
	diff(fmt.Sprintf("pages never shown before (%d), site vs Meilisearch", f.cold), f.siteCold.Pct(.5), f.meiliCold.Pct(.5))
	fmt.Fprintf(w, "  Under wrk the site's p50 is mostly queueing: %d connections / %.0f req/s = %s. The sequential line is\n", *conns, rps, ms(time.Duration(float64(*conns)/rps*float64(time.Second))))
	fmt.Fprintf(w, "  the like-for-like cost the site adds to one search; the concurrent one uses different load generators\n")
	fmt.Fprintf(w, "  (wrk in C, this program in Go) on the same 2 cores.\n")
	fmt.Fprintf(w, "\nsite log (level error): %s\n", b.LogSummary())
	fmt.Fprintf(w, "\nwrk output:\n  %s\n", strings.ReplaceAll(strings.TrimSpace(f.wrkOut), "\n", "\n  "))
}

func ms(d time.Duration) string { return benchkit.MS(d, 2) }

func verdict(ok bool) string { return map[bool]string{true: "met", false: "MISSED"}[ok] }

// --- the site ---

type pageCheck struct {
	status      string // the count line, e.g. "2,345 people"
	count       int64  // its digits
	cards, size int
}

var (
	countLine = regexp.MustCompile(`<p role="status">([^<]*)</p>`)
	cardRe    = regexp.MustCompile(`<span class="ref" dir="ltr">TTF-`)
	nonDigits = regexp.MustCompile(`[^0-9]`)
)

// checkPage fetches the page once: it must answer 200 from the search
// engine (not the PostgreSQL fallback) with a count and a grid.
func checkPage(ctx context.Context, u string) (pageCheck, error) {
	resp, body, _, err := benchkit.Get(ctx, http.DefaultClient, u)
	m := countLine.FindSubmatch(body)
	switch {
	case err != nil:
		return pageCheck{}, fmt.Errorf("GET %s: %w", u, err)
	case resp.StatusCode != http.StatusOK:
		return pageCheck{}, fmt.Errorf("GET %s: %s", u, resp.Status)
	case bytes.Contains(body, []byte(`<p class="banner" role="status">`)):
		return pageCheck{}, fmt.Errorf("GET %s: the page says search is degraded (answered from PostgreSQL, not Meilisearch)", u)
	case m == nil:
		return pageCheck{}, fmt.Errorf("GET %s: no result count on the page", u)
	}
	pc := pageCheck{status: strings.TrimSpace(string(m[1])), cards: len(cardRe.FindAllIndex(body, -1)), size: len(body)}
	pc.count, _ = strconv.ParseInt(nonDigits.ReplaceAllString(pc.status, ""), 10, 64)
	if pc.count == 0 || pc.cards == 0 {
		return pc, fmt.Errorf("GET %s: no results (%q, %d cards)", u, pc.status, pc.cards)
	}
	return pc, nil
}

func timedGet(ctx context.Context, c *http.Client, u string) (time.Duration, error) {
	resp, _, d, err := benchkit.Get(ctx, c, u)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return d, err
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

// capture is the request search.SearchFaces sent, to send again.
type capture struct {
	url, path string
	header    http.Header
	body      []byte
}

// captureSearch runs search.SearchFaces against a recorder and returns the
// HTTP request it made: the path, headers and body the site sends.
func captureSearch(ctx context.Context, b *benchkit.Bench, q search.FaceQuery) (*capture, error) {
	var got *capture
	var mu sync.Mutex
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = &capture{url: b.Stack.MeiliURL + r.URL.Path, path: r.URL.Path, header: r.Header.Clone(), body: body}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"hits":[],"query":"","processingTimeMs":0,"hitsPerPage":24,"page":1,"totalPages":0,"totalHits":0,"facetDistribution":{}}`)
	}))
	defer rec.Close()
	sc, err := search.New(search.Config{URL: rec.URL, APIKey: b.Stack.MeiliKey, SearchWithAPIKey: true})
	if err == nil {
		_, err = sc.SearchFaces(ctx, q)
	}
	mu.Lock()
	defer mu.Unlock()
	if err == nil && (got == nil || !strings.HasSuffix(got.path, "/search")) {
		err = errors.New("SearchFaces sent no search request")
	}
	if err != nil {
		return nil, err
	}
	for _, h := range []string{"Content-Length", "Accept-Encoding", "User-Agent", "Connection"} {
		got.header.Del(h)
	}
	return got, nil
}

// do sends the captured request to Meilisearch, without compression as the
// site asks for none, and times it.
func (m *capture) do(ctx context.Context, c *http.Client) ([]byte, time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, m.url, bytes.NewReader(m.body))
	req.Header = m.header.Clone()
	resp, body, d, err := benchkit.Fetch(c, req)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("POST %s: %s: %.300s", m.url, resp.Status, body)
	}
	return body, d, err
}

// --- timing ---

// alternate times n calls of a and n of b (if not nil), one after the
// other, in batches: a first, then b, and so on.
func alternate(ctx context.Context, n, batch int, a, b func(context.Context) (time.Duration, error)) (*lat, *lat, error) {
	la, lb := &lat{}, &lat{}
	for la.N() < n {
		for _, x := range []struct {
			l *lat
			f func(context.Context) (time.Duration, error)
		}{{la, a}, {lb, b}} {
			for k := min(batch, n-x.l.N()); k > 0 && x.f != nil; k-- {
				d, err := x.f(ctx)
				if err != nil {
					return nil, nil, err
				}
				x.l.Add(d)
			}
		}
	}
	return la, lb, nil
}

// concurrent times f from workers goroutines for d; the first error stops
// them all.
func concurrent(ctx context.Context, workers int, d time.Duration, f func(context.Context) (time.Duration, error)) (*lat, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	all, start := &lat{}, time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Since(start) < d && ctx.Err() == nil {
				if lat, err := f(ctx); err != nil {
					cancel(err) // the first cause stays
				} else {
					mu.Lock()
					all.Add(lat)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	all.Elapsed = time.Since(start)
	return all, context.Cause(ctx)
}

var wrkFigures = regexp.MustCompile(`(?m)^Requests/sec:\s+(?P<rps>[0-9.]+)|^\s+(?P<requests>[0-9]+) requests in|^\s+(50|75|90|99)%\s+([0-9.]+(?:us|ms|s|m))\s*$|Non-2xx or 3xx responses:\s+(?P<non2xx>[0-9]+)|Socket errors:\s+(?P<socket>.*)$`)

// runWrk loads u with wrk and keeps its figures by name: rps, requests, the
// latency percentiles 50, 75, 90 and 99; and, if any, what went wrong.
func (f *figures) runWrk(ctx context.Context, u string) error {
	out, err := exec.CommandContext(ctx, "wrk", "-t"+strconv.Itoa(*threads), "-c"+strconv.Itoa(*conns),
		"-d"+strconv.Itoa(max(1, int(duration.Round(time.Second).Seconds())))+"s", "--latency", u).CombinedOutput()
	f.wrkOut, f.wrk = string(out), map[string]string{}
	if err != nil {
		return fmt.Errorf("wrk: %w: %s", err, out)
	}
	for _, m := range wrkFigures.FindAllStringSubmatch(f.wrkOut, -1) {
		for i, name := range wrkFigures.SubexpNames() {
			if name != "" && m[i] != "" {
				f.wrk[name] = strings.TrimSpace(m[i])
			}
		}
		if m[3] != "" {
			f.wrk[m[3]] = m[4]
		}
	}
	if f.wrk["rps"] == "" || f.wrk["50"] == "" || f.wrk["99"] == "" {
		return fmt.Errorf("wrk: no Requests/sec or latency distribution in its output:\n%s", out)
	}
	if f.wrk["non2xx"] != "" {
		f.wrk["non2xx"] = ", " + f.wrk["non2xx"] + " NOT 2xx/3xx"
	}
	if f.wrk["socket"] != "" {
		f.wrk["socket"] = ", socket errors: " + f.wrk["socket"]
	}
	return nil
}

// --- synthetic entries ---

var entryColumns = []string{"ref", "society", "status", "gender", "age_group", "seeking", "origin", "languages",
	"case_key_id", "case_sealed", "consent_date", "consent_form_version", "consent_recorded_by", "review_date",
	"created_by", "approved_by", "created_at", "published_at", "demo"}

type weighted struct {
	v string
	w int
}

func pick(r *rand.Rand, xs []weighted) string {
	total := 0
	for _, x := range xs {
		total += x.w
	}
	n := r.IntN(total)
	for _, x := range xs {
		if n -= x.w; n < 0 {
			return x.v
		}
	}
	return ""
}

// Countries of origin: most seekers come from a handful of countries in
// conflict; the rest of the world, the tail, weighs tailShare (about 15% of
// entries), spread evenly.
var originWeights = []weighted{
	{"af", 160}, {"sy", 140}, {"ua", 110}, {"so", 90}, {"er", 80}, {"sd", 80}, {"ss", 50}, {"ye", 50}, {"iq", 50}, {"cd", 45}, {"ir", 25},
	{"et", 25}, {"ng", 20}, {"mm", 20}, {"ve", 20}, {"ps", 20}, {"ml", 15}, {"ly", 15}, {"pk", 15}, {"bd", 12}, {"cf", 12}, {"gn", 10},
	{"ci", 10}, {"cm", 10}, {"ht", 10}, {"co", 8}, {"tr", 8}, {"lb", 8}, {"ru", 6}, {"dz", 6}, {"ma", 6}, {"tn", 6}, {"eg", 6}, {"bi", 6},
	{"rw", 5}, {"ug", 5}, {"ke", 5}, {"ne", 5}, {"td", 5}, {"bf", 5}, {"sn", 5}, {"gm", 5},
}

const tailShare = 250

var languagesByOrigin = map[string][]string{
	"af": {"ps", "fa"}, "sy": {"ar", "ku"}, "ua": {"uk", "ru"}, "so": {"so"}, "er": {"ti", "ar"}, "sd": {"ar"}, "ss": {"en", "ar"},
	"ye": {"ar"}, "iq": {"ar", "ku"}, "cd": {"fr", "ln", "sw"}, "ir": {"fa"}, "et": {"am", "om"}, "ng": {"en", "ha"}, "mm": {"my"},
	"ve": {"es"}, "ps": {"ar"}, "ml": {"fr", "bm"}, "ly": {"ar"}, "pk": {"ur"}, "bd": {"bn"}, "cf": {"fr", "sg"}, "ru": {"ru"},
	"tr": {"tr", "ku"}, "co": {"es"}, "ht": {"fr", "ht"},
}

var (
	genders       = []weighted{{"female", 45}, {"male", 50}, {"other", 5}}
	ageGroups     = []weighted{{"15-17", 8}, {"18-29", 35}, {"30-44", 30}, {"45-59", 18}, {"60+", 9}}
	relationships = []weighted{{"mother", 18}, {"father", 14}, {"son", 10}, {"daughter", 9}, {"brother", 12}, {"sister", 10}, {"husband", 6},
		{"wife", 7}, {"grandparent", 2}, {"grandchild", 2}, {"uncle-aunt", 3}, {"nephew-niece", 2}, {"cousin", 3}, {"other", 2}}
)

// ref is entry i's public reference: a bijection of i onto six base-36
// characters (2654435761 is prime to 36^6), so refs are unique and look random.
func ref(i int) string {
	n := (uint64(i)*2654435761 + 12345) % (36 * 36 * 36 * 36 * 36 * 36)
	s := strings.ToUpper(strconv.FormatUint(n, 36))
	return "TTF-" + strings.Repeat("0", 6-len(s)) + s
}

// synthesize makes n published entries with the weights above, the same
// ones each run.
func synthesize(n int, creator, approver int64, now time.Time) ([][]any, error) {
	data, err := content.Load()
	if err != nil {
		return nil, err
	}
	origins := slices.Clone(originWeights)
	for _, c := range data.Countries {
		if !slices.ContainsFunc(originWeights, func(o weighted) bool { return o.v == c.ISO2 }) {
			origins = append(origins, weighted{c.ISO2, tailShare})
		}
	}
	for i, o := range originWeights { // scaled so that the tail as a whole weighs tailShare
		if _, ok := data.Country(o.v); !ok {
			return nil, fmt.Errorf("origin %q is not in content/countries.json", o.v)
		}
		origins[i].w *= len(origins) - len(originWeights)
	}
	r := rand.New(rand.NewPCG(2026, 11))
	sealed := bytes.Repeat([]byte{0xbe}, 48) // a stand-in for a sealed case reference
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	rows := make([][]any, n)
	for i := range rows {
		origin, seeking := pick(r, origins), []string{pick(r, relationships)}
		for want := 1 + r.IntN(3); len(seeking) < want; {
			if s := pick(r, relationships); !slices.Contains(seeking, s) {
				seeking = append(seeking, s)
			}
		}
		langs := append([]string{}, languagesByOrigin[origin]...)
		if len(langs) > 1 && r.IntN(3) == 0 {
			langs = langs[:1]
		}
		if r.IntN(4) == 0 && !slices.Contains(langs, "en") {
			langs = append(langs, "en")
		}
		published := now.Add(-time.Duration(r.Int64N(int64(730 * 24 * time.Hour))))
		created := published.Add(-time.Duration(1+r.IntN(7*24)) * time.Hour)
		consent := time.Date(created.Year(), created.Month(), created.Day(), 0, 0, 0, 0, time.UTC)
		review := today.AddDate(0, 0, 1+r.IntN(365))
		rows[i] = []any{ref(i), "de", "published", pick(r, genders), pick(r, ageGroups), seeking, origin, langs,
			"bench", sealed, consent, "TTF-consent-2025-1", "DRK Suchdienst (bench)", review,
			creator, approver, created, published, true}
	}
	return rows, nil
}
