// Command contact is the contact-form benchmark behind `make bench-contact`:
// it proves that no acknowledged enquiry is lost when the site is killed
// with SIGKILL under load, and measures the sustained rate of acknowledged
// enquiries.
//
// It starts a throw-away PostgreSQL through devstack, runs the site binary
// (var/bin/familylinks serve) as a child, loads POST /{lang}/contact from N
// workers, kills the site part-way and restarts it on the same port, then
// compares every reference the site acknowledged (a 303 with fl_sent) with
// what PostgreSQL holds. It exits 1 if an acknowledged enquiry is missing.
//
// Usage: bash deploy/bench/contact.sh [flags]   (go run ./deploy/bench/contact -h)
package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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

	"github.com/familylinks/familylinks/deploy/bench/benchkit"
	"github.com/familylinks/familylinks/internal/devstack"
	"github.com/jackc/pgx/v5"
)

type config struct {
	bin      string
	workers  int
	duration time.Duration
	killAt   float64
	lang     string
	meili    bool
	keep     bool
	timeout  time.Duration
	sabotage int
}

func main() {
	var cfg config
	flag.StringVar(&cfg.bin, "bin", "var/bin/familylinks", "the site binary")
	flag.IntVar(&cfg.workers, "workers", 64, "concurrent clients, each with its own cookie jar")
	flag.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long the load runs")
	flag.Float64Var(&cfg.killAt, "kill-at", 0.4, "when to SIGKILL the site, as a fraction of -duration (0 or less: never)")
	flag.StringVar(&cfg.lang, "lang", "en", "the page language of /{lang}/contact")
	flag.BoolVar(&cfg.meili, "meili", false, "also start Meilisearch (the contact form does not need it)")
	flag.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "per-request timeout")
	flag.IntVar(&cfg.sabotage, "selftest-delete", 0, "delete this many acknowledged enquiries before the check, to see the check fail (exit 1)")
	flag.Parse()
	if cfg.workers < 1 || cfg.duration <= 0 || cfg.killAt >= 1 {
		fmt.Fprintln(os.Stderr, "bench-contact: need -workers >= 1, -duration > 0 and -kill-at < 1")
		os.Exit(2)
	}
	code, err := run(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-contact:", err)
		if code == 0 {
			code = 2
		}
	}
	os.Exit(code)
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
	work, err := os.MkdirTemp("", "familylinks-bench-contact-")
	if err != nil {
		return 2, err
	}
	defer os.RemoveAll(work)
	// The postgres user must get through it to its data directory.
	if err := os.Chmod(work, 0o755); err != nil {
		return 2, err
	}

	// 1. Engines.
	t0 := time.Now()
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "bench-contact: "+format+"\n", a...)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	stack, err := devstack.Start(ctx, devstack.Options{Dir: work, Log: quiet, SkipMeili: !cfg.meili})
	if err != nil {
		return 2, fmt.Errorf("starting the engines: %w", err)
	}
	defer func() {
		if serr := stack.Stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("stopping the engines: %w", serr))
		}
	}()
	logf("PostgreSQL up in %s (%s)", time.Since(t0).Round(time.Millisecond), stack.DatabaseURL)

	// 2. The site: keys, schema, one German caseworker, then serve.
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
		"FAMILYLINKS_AUTO_MIGRATE=true",
		"FAMILYLINKS_ADDR="+addr,
		"FAMILYLINKS_TRUSTED_PROXIES=127.0.0.1",
		"FAMILYLINKS_LOG_LEVEL=error",
	)
	env, _, err = benchkit.WithKeys(bin, work, env)
	if err != nil {
		return 2, err
	}
	if _, err := benchkit.Tool(bin, work, env, "", "migrate"); err != nil {
		return 2, err
	}
	if _, err := benchkit.Tool(bin, work, env, "", "staff", "add", "--email", "bench@drk.example", "--society", "de", "--role", "caseworker"); err != nil {
		return 2, err
	}

	siteLogPath := filepath.Join(work, "site.log")
	siteLog, err := os.Create(siteLogPath)
	if err != nil {
		return 2, err
	}
	defer siteLog.Close()
	var sites []*benchkit.Site
	defer func() {
		for _, s := range sites {
			s.Stop()
		}
	}()
	t1 := time.Now()
	first, err := benchkit.StartSite(bin, env, work, siteLog)
	if err != nil {
		return 2, err
	}
	sites = append(sites, first)
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err = benchkit.WaitHealthy(startCtx, first, base, 5*time.Millisecond)
	cancel()
	if err != nil {
		return 2, fmt.Errorf("the site did not start: %w%s", err, benchkit.Tail(siteLogPath))
	}
	logf("site up on %s in %s", addr, time.Since(t1).Round(time.Millisecond))

	var pgSettings string
	if conn, err := pgx.Connect(ctx, stack.DatabaseURL); err == nil {
		var fsync, sc, fpw string
		if conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')`).Scan(&fsync, &sc, &fpw) == nil {
			pgSettings = fmt.Sprintf("fsync=%s synchronous_commit=%s full_page_writes=%s", fsync, sc, fpw)
		}
		conn.Close(ctx)
	}

	// 3. Clients: one cookie jar each, the form fetched once.
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        cfg.workers,
		MaxIdleConnsPerHost: cfg.workers,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	defer transport.CloseIdleConnections()
	formURL := base + "/" + cfg.lang + "/contact"
	clients := make([]*client, cfg.workers)
	for i := range clients {
		c, err := newClient(ctx, i, transport, cfg, formURL)
		if err != nil {
			return 2, fmt.Errorf("worker %d: %w", i, err)
		}
		clients[i] = c
	}
	// A first enquiry on its own: a form the site rejects is a setup
	// error, reported with what the site said, not a benchmark result.
	pre := clients[0].post(ctx, 0)
	if pre.status != http.StatusSeeOther || pre.ref == "" {
		return 2, fmt.Errorf("a first valid enquiry was not accepted: status %d %s %s%s", pre.status, pre.kind, pre.detail, benchkit.Tail(siteLogPath))
	}
	clients[0].refs = clients[0].refs[:0]

	// 4. Load, with a SIGKILL and a restart part-way.
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	cpu0 := benchkit.MachineCPU()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	start := time.Now()
	deadline := start.Add(cfg.duration)
	var wg sync.WaitGroup
	for _, c := range clients {
		c.start = start
		wg.Go(func() { c.loop(loadCtx, deadline) })
	}

	var kill killReport
	killDone := make(chan struct{})
	if cfg.killAt > 0 {
		go func() {
			defer close(killDone)
			select {
			case <-time.After(time.Until(start.Add(time.Duration(cfg.killAt * float64(cfg.duration))))):
			case <-loadCtx.Done():
				return
			}
			old := sites[len(sites)-1]
			kill.at = time.Since(start)
			if err := old.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
				kill.err = fmt.Errorf("SIGKILL: %w", err)
				return
			}
			<-old.Done() // reaped: its listening socket is gone
			kill.oldCPU = old.CPU()
			s, err := benchkit.StartSite(bin, env, work, siteLog)
			if err != nil {
				kill.err = fmt.Errorf("restarting: %w", err)
				return
			}
			sites = append(sites, s)
			kill.restarted = time.Since(start)
			hctx, cancel := context.WithTimeout(loadCtx, 30*time.Second)
			defer cancel()
			if err := benchkit.WaitHealthy(hctx, s, base, 2*time.Millisecond); err != nil {
				kill.err = fmt.Errorf("the restarted site did not answer: %w", err)
				return
			}
			kill.up = time.Since(start)
		}()
	} else {
		close(killDone)
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopLoad()
	<-killDone
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu1 := benchkit.MachineCPU()
	if ctx.Err() != nil {
		return 130, errors.New("interrupted")
	}

	// 5. What PostgreSQL holds.
	qctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(qctx, stack.DatabaseURL)
	if err != nil {
		return 2, fmt.Errorf("connecting to PostgreSQL for the check: %w", err)
	}
	defer conn.Close(context.Background())
	if cfg.sabotage > 0 {
		var victims []string
		for _, c := range clients {
			victims = append(victims, c.refs[:min(len(c.refs), cfg.sabotage-len(victims))]...)
		}
		tag, err := conn.Exec(qctx, `DELETE FROM enquiries WHERE reference = ANY($1)`, victims)
		if err != nil {
			return 2, fmt.Errorf("self-test delete: %w", err)
		}
		logf("self-test: deleted %d acknowledged enquiries before the check", tag.RowsAffected())
	}
	rows, _ := conn.Query(qctx, `SELECT reference FROM enquiries`)
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 2, fmt.Errorf("reading the references: %w", err)
	}
	rows, _ = conn.Query(qctx, `SELECT inbox, count(*) FROM enquiries GROUP BY inbox ORDER BY count(*) DESC, inbox`)
	type inboxCount struct {
		Inbox string
		N     int
	}
	byInbox, err := pgx.CollectRows(rows, pgx.RowToStructByPos[inboxCount])
	if err != nil {
		return 2, fmt.Errorf("counting by inbox: %w", err)
	}

	// Stop the site now: its CPU time is known once it has exited.
	last := sites[len(sites)-1]
	last.Stop()
	siteCPU := kill.oldCPU + last.CPU()

	// 6. Report.
	r := collect(clients)
	acked := map[string]bool{pre.ref: true}
	dupAcks := 0
	for _, c := range clients {
		for _, ref := range c.refs {
			if acked[ref] {
				dupAcks++
			}
			acked[ref] = true
		}
	}
	storedSet := make(map[string]bool, len(stored))
	for _, ref := range stored {
		storedSet[ref] = true
	}
	var missing []string
	for ref := range acked {
		if !storedSet[ref] {
			missing = append(missing, ref)
		}
	}
	slices.Sort(missing)
	unacked := 0
	for _, ref := range stored {
		if !acked[ref] {
			unacked++
		}
	}

	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "contact form under load: POST %s, %d workers (one cookie jar and CSRF token each, a distinct X-Real-IP per request), %s\n",
		"/"+cfg.lang+"/contact", cfg.workers, cfg.duration)
	fmt.Fprintf(w, "machine: %d cores shared by PostgreSQL, the site and this load generator (GOMAXPROCS %d)\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "PostgreSQL: throw-away devstack cluster, %s. Only the site is killed, never PostgreSQL:\n", orUnknown(pgSettings))
	fmt.Fprintf(w, "  a commit is visible to every later query as soon as it returns, so these settings cannot hide a lost enquiry here;\n")
	fmt.Fprintf(w, "  they would matter only for an OS or PostgreSQL crash, which this bench does not test.\n")
	fmt.Fprintf(w, "\nload\n")
	fmt.Fprintf(w, "  run time           %s\n", elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  requests           %d\n", r.total)
	fmt.Fprintf(w, "  acknowledged (303) %d\n", r.acks)
	fmt.Fprintf(w, "  sustained rate     %.0f acks/s over the whole run\n", float64(r.acks)/elapsed.Seconds())
	if kill.at > 0 {
		lo := kill.at - 500*time.Millisecond
		hi := max(kill.at+500*time.Millisecond, r.firstAckAfter(kill.at))
		n := r.acksOutside(lo, hi)
		fmt.Fprintf(w, "  steady rate        %.0f acks/s excluding %.1fs-%.1fs (1 s around the kill, widened to the first ack after it)\n",
			float64(n)/(elapsed-(hi-lo)).Seconds(), lo.Seconds(), hi.Seconds())
	}
	fmt.Fprintf(w, "  latency of 303s    p50 %s  p90 %s  p99 %s  max %s\n", ms(r.pct(0.50)), ms(r.pct(0.90)), ms(r.pct(0.99)), ms(r.pct(1)))
	fmt.Fprintf(w, "  acks per second    %s\n", r.timeline(elapsed))
	if len(r.errs) == 0 {
		fmt.Fprintf(w, "  errors             none\n")
	} else {
		fmt.Fprintf(w, "  errors             %d: %s\n", r.total-r.acks, r.errorSummary())
	}
	if kill.at > 0 || kill.err != nil {
		fmt.Fprintf(w, "\nkill -9\n")
		if kill.err != nil {
			fmt.Fprintf(w, "  FAILED: %v%s\n", kill.err, benchkit.Tail(siteLogPath))
		} else {
			fmt.Fprintf(w, "  SIGKILL at         %.3fs (%.0f%% of the run); new process started %s later\n",
				kill.at.Seconds(), cfg.killAt*100, ms(kill.restarted-kill.at))
			fmt.Fprintf(w, "  answered again     %s after the kill (/healthz 200); first 303 %s after the kill\n",
				ms(kill.up-kill.at), ms(r.firstAckAfter(kill.at)-kill.at))
			fmt.Fprintf(w, "  failed in the gap  %d requests between the kill and the first 303 after it (counted as errors, not acknowledged)\n",
				r.failedBetween(kill.at, r.firstAckAfter(kill.at)))
		}
	}
	fmt.Fprintf(w, "\ndurability check against PostgreSQL\n")
	fmt.Fprintf(w, "  acknowledged references     %d distinct (the load's, plus the warm-up enquiry sent before it)", len(acked))
	if dupAcks > 0 {
		fmt.Fprintf(w, "; %d DUPLICATE acknowledgements", dupAcks)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  stored enquiries            %d\n", len(stored))
	fmt.Fprintf(w, "  acknowledged but missing    %d (must be 0)\n", len(missing))
	fmt.Fprintf(w, "  stored but unacknowledged   %d (in flight when the site was killed, or answered with an error: acceptable)\n", unacked)
	var inboxes []string
	for _, b := range byInbox {
		inboxes = append(inboxes, fmt.Sprintf("%s %d", b.Inbox, b.N))
	}
	fmt.Fprintf(w, "  stored by inbox             %s (de has a caseworker; the others fall back by the routing rules)\n", strings.Join(inboxes, ", "))

	self := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond
	fmt.Fprintf(w, "\nCPU during the load (2 cores = 200%%)\n")
	fmt.Fprintf(w, "  load generator     %.1fs (%.0f%% of one core): Go net/http, keep-alive, no redirects followed, short back-off after a connection error\n",
		self.Seconds(), 100*self.Seconds()/elapsed.Seconds())
	fmt.Fprintf(w, "  site               %.1fs (%.0f%% of one core), both processes\n", siteCPU.Seconds(), 100*siteCPU.Seconds()/elapsed.Seconds())
	if busy, ok := cpu1.BusySince(cpu0); ok {
		fmt.Fprintf(w, "  whole machine      %.0f%% busy (the rest is mostly PostgreSQL)\n", busy*float64(runtime.NumCPU())*100)
	}
	fmt.Fprintf(w, "\nsite log (level error, both processes and the final SIGTERM): %s\n", benchkit.SummarizeLog(siteLogPath))
	if r.acks == 0 {
		fmt.Fprintf(w, "\nFAIL: no enquiry was acknowledged\n")
		return 1, nil
	}
	if len(missing) > 0 {
		show := missing[:min(len(missing), 10)]
		fmt.Fprintf(w, "\nFAIL: %d acknowledged enquiries are not in PostgreSQL, e.g. %s\n", len(missing), strings.Join(show, " "))
		return 1, nil
	}
	if kill.err != nil {
		fmt.Fprintf(w, "\nFAIL: the kill and restart did not go as planned\n")
		return 1, nil
	}
	fmt.Fprintf(w, "\nOK: every acknowledged enquiry is in PostgreSQL\n")
	return 0, nil
}

type killReport struct {
	at, restarted, up time.Duration // since the start of the load
	oldCPU            time.Duration
	err               error
}

// client is one worker: a cookie jar, a CSRF token and its results.
type client struct {
	id    int
	http  *http.Client
	url   string
	token string
	lang  string
	start time.Time
	seq   int
	recs  []rec
	refs  []string
}

// rec is one request: when it ended (since the start), how long it took,
// and how it ended.
type rec struct {
	end, lat time.Duration
	status   int    // 0: no response
	kind     string // for failures: what happened
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func newClient(ctx context.Context, id int, t *http.Transport, cfg config, formURL string) (*client, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{
		Transport:     t,
		Jar:           jar,
		Timeout:       cfg.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, formURL, nil)
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", formURL, resp.Status)
	}
	m := csrfField.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("GET %s: no _csrf field in the form", formURL)
	}
	return &client{id: id, http: hc, url: formURL, token: string(m[1]), lang: cfg.lang, recs: make([]rec, 0, 1024)}, nil
}

// Residences with a National Society; de has an active inbox (the bench's
// caseworker), the others are routed by the fallback rules.
var residences = []string{"de", "fr", "it", "se", "gr", "tr", "ly", "sd"}
var relationships = []string{"mother", "father", "brother", "sister", "son", "daughter"}
var circumstances = []string{"migration", "conflict", "disaster", "detention"}

// ipSeq numbers requests; ip turns the number into a distinct address in
// 100.64.0.0/10 (multiplying by an odd number is a bijection mod 2^22).
var ipSeq atomic.Uint32

func nextIP() string {
	n := (ipSeq.Add(1) * 2654435761) & (1<<22 - 1)
	return fmt.Sprintf("100.%d.%d.%d", 64+n>>16, n>>8&255, n&255)
}

func (c *client) body(n int) string {
	v := url.Values{}
	v.Set("_csrf", c.token)
	v.Set("residence", residences[(c.id+n)%len(residences)])
	v.Set("name", "Bench Enquirer "+strconv.Itoa(c.id))
	v.Set("email", "bench"+strconv.Itoa(c.id)+"@example.org")
	v.Set("phone", "+49 30 1234 "+strconv.Itoa(1000+n%9000))
	v.Set("lang", c.lang)
	v.Set("sought_name", "Sought Person "+strconv.Itoa(n))
	v.Set("sought_age", strconv.Itoa(20+n%60))
	v.Set("sought_place", "Tripoli")
	v.Set("lost_when", "2023")
	v.Set("relationship", relationships[n%len(relationships)])
	v.Set("circumstance", circumstances[n%len(circumstances)])
	v.Set("message", "We lost contact during the journey. Any news would help; worker "+strconv.Itoa(c.id)+", enquiry "+strconv.Itoa(n)+".")
	v.Set("consent", "yes")
	return v.Encode()
}

type result struct {
	status int
	ref    string
	kind   string
	detail string
}

func (c *client) post(ctx context.Context, n int) result {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(c.body(n)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Real-IP", nextIP())
	resp, err := c.http.Do(req)
	if err != nil {
		return result{kind: classify(err), detail: err.Error()}
	}
	var snippet []byte
	if resp.StatusCode != http.StatusSeeOther {
		snippet, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	res := result{status: resp.StatusCode}
	if resp.StatusCode != http.StatusSeeOther {
		res.kind = "status " + strconv.Itoa(resp.StatusCode)
		res.detail = errorText(snippet)
		return res
	}
	if loc := resp.Header.Get("Location"); loc != "/"+c.lang+"/contact/sent" {
		res.kind, res.detail = "303 to an unexpected Location", loc
		return res
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == "fl_sent" && ck.Value != "" {
			res.ref = ck.Value
		}
	}
	if res.ref == "" {
		res.kind = "303 without an fl_sent reference"
		return res
	}
	c.refs = append(c.refs, res.ref)
	return res
}

// errorText pulls the error messages out of a rejected form, for a setup error.
var pageErrors = regexp.MustCompile(`(?:class="field-error" id="e-([a-z_]+)">|class="banner"[^>]*><p>)([^<]*)<`)

func errorText(page []byte) string {
	var out []string
	for _, m := range pageErrors.FindAllSubmatch(page, 8) {
		if s := strings.TrimSpace(string(m[2])); s != "" {
			out = append(out, strings.TrimSpace(string(m[1])+" "+s))
		}
	}
	return strings.Join(out, "; ")
}

func (c *client) loop(ctx context.Context, deadline time.Time) {
	for ctx.Err() == nil && time.Now().Before(deadline) {
		c.seq++
		t := time.Now()
		res := c.post(ctx, c.seq)
		end := time.Now()
		c.recs = append(c.recs, rec{end: end.Sub(c.start), lat: end.Sub(t), status: res.status, kind: res.kind})
		if res.status == 0 {
			// The site is down (the kill): retry soon, without spinning a
			// core on connection refused.
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func classify(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed (EOF)"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "other: " + err.Error()
}

// report is every worker's records together.
type report struct {
	total, acks  int
	ackEnds      []time.Duration // sorted
	ackLatsByEnd []time.Duration // the latency of each of ackEnds
	ackLats      []time.Duration // sorted
	fails        []rec
	errs         map[string]int
}

func collect(cs []*client) *report {
	r := &report{errs: map[string]int{}}
	for _, c := range cs {
		for _, x := range c.recs {
			r.total++
			if x.kind == "" {
				r.acks++
				r.ackEnds = append(r.ackEnds, x.end)
				r.ackLats = append(r.ackLats, x.lat)
				continue
			}
			r.fails = append(r.fails, x)
			r.errs[x.kind]++
		}
	}
	idx := make([]int, len(r.ackEnds))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(r.ackEnds[a], r.ackEnds[b]) })
	ends := make([]time.Duration, len(idx))
	r.ackLatsByEnd = make([]time.Duration, len(idx))
	for i, j := range idx {
		ends[i], r.ackLatsByEnd[i] = r.ackEnds[j], r.ackLats[j]
	}
	r.ackEnds = ends
	slices.Sort(r.ackLats)
	return r
}

func (r *report) pct(p float64) time.Duration {
	if len(r.ackLats) == 0 {
		return 0
	}
	i := int(p*float64(len(r.ackLats))+0.5) - 1
	return r.ackLats[min(max(i, 0), len(r.ackLats)-1)]
}

// firstAckAfter is when the first enquiry sent after t was acknowledged:
// after a kill at t, the first one the restarted site answered. (An answer
// the old process sent just before it died can arrive a moment after t.)
func (r *report) firstAckAfter(t time.Duration) time.Duration {
	first := time.Duration(-1)
	for i, end := range r.ackEnds {
		if end-r.ackLatsByEnd[i] >= t && (first < 0 || end < first) {
			first = end
		}
	}
	if first < 0 {
		return t
	}
	return first
}

func (r *report) acksOutside(lo, hi time.Duration) int {
	a, _ := slices.BinarySearch(r.ackEnds, lo)
	b, _ := slices.BinarySearch(r.ackEnds, hi)
	return len(r.ackEnds) - (b - a)
}

func (r *report) failedBetween(lo, hi time.Duration) int {
	n := 0
	for _, f := range r.fails {
		if f.end >= lo && f.end <= hi {
			n++
		}
	}
	return n
}

func (r *report) timeline(elapsed time.Duration) string {
	secs := int(elapsed / time.Second)
	if elapsed%time.Second > 0 {
		secs++
	}
	counts := make([]int, secs)
	for _, e := range r.ackEnds {
		counts[min(int(e/time.Second), secs-1)]++
	}
	parts := make([]string, len(counts))
	for i, n := range counts {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, " ")
}

func (r *report) errorSummary() string {
	kinds := make([]string, 0, len(r.errs))
	for k := range r.errs {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int { return r.errs[b] - r.errs[a] })
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%s %d", k, r.errs[k])
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string { return benchkit.MS(d, 1) }

func orUnknown(s string) string {
	if s == "" {
		return "settings unknown"
	}
	return s
}
