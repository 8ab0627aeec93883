// Command contact is the contact-form benchmark behind `make bench-contact`:
// it proves that no acknowledged enquiry is lost when the site is killed
// with SIGKILL under load, and measures the sustained rate of acknowledged
// enquiries.
//
// It starts a throw-away PostgreSQL, runs the site as a child, loads POST
// /{lang}/contact from N workers, kills the site part-way and restarts it on
// the same port, then compares every reference the site acknowledged (a 303
// with fl_sent) with what PostgreSQL holds. It exits 1 if an acknowledged
// enquiry is missing.
//
// Usage: bash deploy/bench/contact.sh [flags]   (go run ./deploy/bench/contact -h)
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/familylinks/familylinks/deploy/bench/benchkit"
	"github.com/jackc/pgx/v5"
)

var (
	workers  = flag.Int("workers", 64, "concurrent clients, each with its own cookie jar")
	duration = flag.Duration("duration", 20*time.Second, "how long the load runs")
	killAt   = flag.Float64("kill-at", 0.4, "when to SIGKILL the site, as a fraction of -duration (0 or less: never)")
	lang     = flag.String("lang", "en", "the page language of /{lang}/contact")
	meili    = flag.Bool("meili", false, "also start Meilisearch (the contact form does not need it)")
	timeout  = flag.Duration("timeout", 10*time.Second, "per-request timeout")
	sabotage = flag.Int("selftest-delete", 0, "delete this many acknowledged enquiries before the check, to see the check fail (exit 1)")
)

func main() {
	flag.Parse()
	benchkit.Usage(*workers >= 1 && *duration > 0 && *killAt < 1, "bench-contact", "need -workers >= 1, -duration > 0 and -kill-at < 1")
	benchkit.Main(benchkit.Options{Name: "bench-contact", Meili: *meili,
		Env: []string{"FAMILYLINKS_AUTO_MIGRATE=true", "FAMILYLINKS_TRUSTED_PROXIES=127.0.0.1", "FAMILYLINKS_LOG_LEVEL=error"}}, run)
}

// Residences with a National Society; de has an active inbox (the bench's
// caseworker), the others are routed by the fallback rules.
var residences = []string{"de", "fr", "it", "se", "gr", "tr", "ly", "sd"}

// post posts a worker's enquiry n.
func post(ctx context.Context, c *benchkit.Worker, n int) (benchkit.Rec, []byte) {
	r, _, page := c.Enquire(ctx, *lang, residences[(c.ID+n)%len(residences)], n)
	return r, page
}

// kill is the SIGKILL and the restart, since the start of the load.
type kill struct {
	at, restarted, up time.Duration
	err               error
}

func run(ctx context.Context, b *benchkit.Bench) (int, error) {
	// Setup: one German caseworker, the site, the clients.
	if err := b.AddStaff("bench@drk.example", "caseworker", ""); err != nil {
		return 2, err
	}
	site, err := b.StartSite(ctx)
	if err != nil {
		return 2, err
	}
	b.Logf("site up on %s in %s", b.Addr, time.Since(site.Started).Round(time.Millisecond))
	db, err := pgx.Connect(ctx, b.Stack.DatabaseURL)
	if err != nil {
		return 2, err
	}
	defer db.Close(context.Background())
	transport := benchkit.Transport(*workers)
	clients := make([]*benchkit.Worker, *workers)
	for i := range clients {
		c := &benchkit.Worker{ID: i, HTTP: benchkit.Client(transport, *timeout), Base: b.Base}
		if c.Token, err = benchkit.Token(ctx, c.HTTP, b.Base+"/"+*lang+"/contact"); err != nil {
			return 2, fmt.Errorf("worker %d: %w", i, err)
		}
		clients[i] = c
	}
	// A first enquiry on its own: a form the site rejects is a setup error,
	// reported with what the site said, not a benchmark result.
	if r, page := post(ctx, clients[0], 0); r.Fail != "" {
		return 2, fmt.Errorf("a first valid enquiry was not accepted: %s %s%s", r.Detail, benchkit.FormErrors(page), b.Tail())
	}
	clients[0].Recs = nil // its acknowledgement stays, to be checked

	// Load, with a SIGKILL and a restart part-way.
	cpu0, self0 := benchkit.MachineCPU(), benchkit.ProcessCPU(os.Getpid())
	start := time.Now()
	deadline := start.Add(*duration)
	var wg sync.WaitGroup
	for _, c := range clients {
		c.Start = start
		wg.Go(func() {
			c.Loop(ctx, deadline, 5*time.Millisecond, func(ctx context.Context) benchkit.Rec { r, _ := post(ctx, c, len(c.Recs)+1); return r })
		})
	}
	var k kill
	if *killAt > 0 {
		wg.Go(func() { k = killAndRestart(ctx, b, start, time.Duration(*killAt*float64(*duration))) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, self := benchkit.MachineCPU(), benchkit.ProcessCPU(os.Getpid())-self0
	if ctx.Err() != nil {
		return 130, ctx.Err()
	}

	// Checks: what PostgreSQL holds.
	recs, acked := benchkit.Collect(clients)
	if *sabotage > 0 {
		tag, err := db.Exec(ctx, `DELETE FROM enquiries WHERE reference = ANY($1)`, acked[:min(len(acked), *sabotage)])
		if err != nil {
			return 2, fmt.Errorf("self-test delete: %w", err)
		}
		b.Logf("self-test: deleted %d acknowledged enquiries before the check", tag.RowsAffected())
	}
	d, err := benchkit.CheckDurability(ctx, db, acked)
	if err != nil {
		return 2, err
	}
	rows, _ := db.Query(ctx, `SELECT inbox || ' ' || count(*) FROM enquiries GROUP BY inbox ORDER BY count(*) DESC, inbox`)
	byInbox, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 2, fmt.Errorf("counting by inbox: %w", err)
	}
	siteCPU := b.StopSites() // known once they have exited

	// Report.
	acks := recs.OK()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "contact form under load: POST /%s/contact, %d workers (one cookie jar and CSRF token each, a distinct X-Real-IP per request), %s\n", *lang, *workers, *duration)
	fmt.Fprintf(w, "machine: %d cores shared by PostgreSQL, the site and this load generator (GOMAXPROCS %d)\n", runtime.NumCPU(), runtime.GOMAXPROCS(0))
	fmt.Fprintf(w, "PostgreSQL: throw-away devstack cluster, %s. Only the site is killed, never PostgreSQL:\n", benchkit.PGSettings(ctx, db))
	fmt.Fprintf(w, "  a commit is visible to every later query as soon as it returns, so these settings cannot hide a lost enquiry here;\n")
	fmt.Fprintf(w, "  they would matter only for an OS or PostgreSQL crash, which this bench does not test.\n")
	fmt.Fprintf(w, "\nload\n")
	fmt.Fprintf(w, "  run time           %s\n", elapsed.Round(time.Millisecond))
	fmt.Fprintf(w, "  requests           %d\n", len(recs))
	fmt.Fprintf(w, "  acknowledged (303) %d\n", len(acks))
	fmt.Fprintf(w, "  sustained rate     %.0f acks/s over the whole run\n", float64(len(acks))/elapsed.Seconds())
	// The first enquiry sent after the kill that was acknowledged: the
	// restarted site's (the old one's last answers can arrive just after).
	firstAck := k.at
	if after := acks.Where(func(x *benchkit.Rec) bool { return x.Start >= k.at }); len(after) > 0 {
		firstAck = after[0].End
	}
	if k.at > 0 {
		lo, hi := k.at-500*time.Millisecond, max(k.at+500*time.Millisecond, firstAck)
		n := len(acks.Where(func(x *benchkit.Rec) bool { return x.End < lo || x.End >= hi }))
		fmt.Fprintf(w, "  steady rate        %.0f acks/s excluding %.1fs-%.1fs (1 s around the kill, widened to the first ack after it)\n", float64(n)/(elapsed-(hi-lo)).Seconds(), lo.Seconds(), hi.Seconds())
	}
	fmt.Fprintf(w, "  latency of 303s    %s\n", acks.Latencies().Summary(1))
	fmt.Fprintf(w, "  acks per second    %s\n", acks.PerSecond(elapsed))
	fmt.Fprintf(w, "  errors             %d: %s\n", len(recs.Failed()), recs.Failed().Details())
	if k.at > 0 || k.err != nil {
		fmt.Fprintf(w, "\nkill -9\n")
		if k.err != nil {
			fmt.Fprintf(w, "  FAILED: %v\n", k.err)
		} else {
			fmt.Fprintf(w, "  SIGKILL at         %.3fs (%.0f%% of the run); new process started %s later\n", k.at.Seconds(), *killAt*100, ms(k.restarted-k.at))
			fmt.Fprintf(w, "  answered again     %s after the kill (/healthz 200); first 303 %s after the kill\n", ms(k.up-k.at), ms(firstAck-k.at))
			fmt.Fprintf(w, "  failed in the gap  %d requests between the kill and the first 303 after it (counted as errors, not acknowledged)\n",
				len(recs.Failed().Where(func(x *benchkit.Rec) bool { return x.End >= k.at && x.End <= firstAck })))
		}
	}
	fmt.Fprintf(w, "\ndurability check against PostgreSQL\n")
	fmt.Fprintf(w, "  acknowledged references     %d distinct (the load's, plus the warm-up enquiry sent before it)", len(d.Acked))
	if d.Dups > 0 {
		fmt.Fprintf(w, "; %d DUPLICATE acknowledgements", d.Dups)
	}
	fmt.Fprintf(w, "\n  stored enquiries            %d\n", len(d.Stored))
	fmt.Fprintf(w, "  acknowledged but missing    %d (must be 0)\n", len(d.Missing))
	fmt.Fprintf(w, "  stored but unacknowledged   %d (in flight when the site was killed, or answered with an error: acceptable)\n", d.Unacked)
	fmt.Fprintf(w, "  stored by inbox             %s (de has a caseworker; the others fall back by the routing rules)\n", strings.Join(byInbox, ", "))
	fmt.Fprintf(w, "\nCPU during the load (2 cores = 200%%)\n")
	fmt.Fprintf(w, "  load generator     %.1fs (%.0f%% of one core): Go net/http, keep-alive, no redirects followed, short back-off after a connection error\n", self.Seconds(), 100*self.Seconds()/elapsed.Seconds())
	fmt.Fprintf(w, "  site               %.1fs (%.0f%% of one core), both processes\n", siteCPU.Seconds(), 100*siteCPU.Seconds()/elapsed.Seconds())
	if busy, ok := cpu1.BusySince(cpu0); ok {
		fmt.Fprintf(w, "  whole machine      %.0f%% busy (the rest is mostly PostgreSQL)\n", busy*float64(runtime.NumCPU())*100)
	}
	fmt.Fprintf(w, "\nsite log (level error, both processes and the final SIGTERM): %s\n", b.LogSummary())

	// Verdict.
	switch {
	case len(acks) == 0:
		fmt.Fprintf(w, "\nFAIL: no enquiry was acknowledged\n")
	case len(d.Missing) > 0:
		fmt.Fprintf(w, "\nFAIL: %d acknowledged enquiries are not in PostgreSQL, e.g. %s\n", len(d.Missing), strings.Join(d.Missing[:min(len(d.Missing), 10)], " "))
	case k.err != nil:
		fmt.Fprintf(w, "\nFAIL: the kill and restart did not go as planned\n")
	default:
		fmt.Fprintf(w, "\nOK: every acknowledged enquiry is in PostgreSQL\n")
		return 0, nil
	}
	return 1, nil
}

// killAndRestart sends the site SIGKILL at after, since the start of the
// load, and starts a new one on the same port once the old one is gone.
func killAndRestart(ctx context.Context, b *benchkit.Bench, start time.Time, after time.Duration) (k kill) {
	select {
	case <-time.After(time.Until(start.Add(after))):
	case <-ctx.Done():
		return k
	}
	old := b.Site()
	k.at = time.Since(start)
	if err := old.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		k.err = fmt.Errorf("SIGKILL: %w", err)
		return k
	}
	<-old.Done // reaped: its listening socket is gone
	s, err := b.StartSite(ctx)
	if s != nil {
		k.restarted = s.Started.Sub(start)
	}
	if err != nil {
		k.err = fmt.Errorf("restarting: %w", err)
		return k
	}
	k.up = time.Since(start)
	return k
}

func ms(d time.Duration) string { return benchkit.MS(d, 1) }
