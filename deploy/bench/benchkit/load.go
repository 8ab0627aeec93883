package benchkit

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Transport keeps connections alive and asks for no compression, like wrk.
func Transport(conns int) *http.Transport {
	return &http.Transport{DialContext: (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns: max(100, conns), MaxIdleConnsPerHost: max(100, conns), IdleConnTimeout: 90 * time.Second, DisableCompression: true}
}

// Client has a cookie jar of its own and follows no redirect; t nil is
// Go's default transport.
func Client(t http.RoundTripper, timeout time.Duration) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Transport: t, Jar: jar, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Fetch sends req with c and reads the answer (4 MB at most); it returns
// how long both took.
func Fetch(c *http.Client, req *http.Request) (*http.Response, []byte, time.Duration, error) {
	t := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, time.Since(t), err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	resp.Body.Close()
	return resp, b, time.Since(t), err
}

// Get is Fetch of GET u.
func Get(ctx context.Context, c *http.Client, u string) (*http.Response, []byte, time.Duration, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	return Fetch(c, req)
}

var ipSeq atomic.Uint32

// NextIP is a distinct address in 100.64.0.0/10 for each request, so that
// the site's per-address limits do not shape the load (multiplying by an
// odd number is a bijection mod 2^22).
func NextIP() string {
	n := (ipSeq.Add(1) * 2654435761) & (1<<22 - 1)
	return fmt.Sprintf("100.%d.%d.%d", 64+n>>16, n>>8&255, n&255)
}

// Classify names a client error: its class (refused, closed, timeout or
// other) and what happened.
func Classify(err error) (class, what string) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused", "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "closed", "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "closed", "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed", "connection closed (EOF)"
	case errors.Is(err, net.ErrClosed): // closed on our side while the answer was awaited
		return "closed", "connection closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout", "timeout"
	case errors.Is(err, context.Canceled):
		return "other", "cancelled"
	}
	return "other", "other: " + err.Error()
}

// Rec is one request: when it started and ended (since the load started),
// and how it ended.
type Rec struct {
	Kind       string
	Start, End time.Duration
	Status     int    // 0: no answer
	Fail       string // "": OK; else refused, closed, timeout, 5xx or other
	Detail     string // what failed: "connection reset", "status 429", ...
	Degraded   bool   // a gallery page answered from PostgreSQL
}

// Check judges an answer other than a 5xx: "" if it is right, else a
// failure class and what was wrong.
type Check func(resp *http.Response, body []byte) (fail, detail string)

var inFlight atomic.Int64

// InFlight is the number of requests sent and not yet answered.
func InFlight() int64 { return inFlight.Load() }

// Worker is one simulated visitor: a client with its own cookie jar, a
// fresh X-Real-IP per request, and a record of every request.
type Worker struct {
	ID    int
	HTTP  *http.Client
	Base  string
	Start time.Time // of the load
	Rand  *rand.Rand
	Recs  []Rec
	Token string   // the CSRF token of the contact form, for Enquire
	Acks  []string // the references of its enquiries the site acknowledged
}

// Pick is one element of list, at random.
func (w *Worker) Pick(list []string) string { return list[w.Rand.IntN(len(list))] }

// Do sends one request (form, if not nil, as its body), records it and
// judges it with check (nil: anything but 200 is "other"). A failure while
// ctx ends is not recorded: the load ended under it.
func (w *Worker) Do(ctx context.Context, kind, method, path string, form url.Values, check Check) (Rec, *http.Response, []byte) {
	req, _ := http.NewRequestWithContext(ctx, method, w.Base+path, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Real-IP", NextIP())
	t := time.Now()
	inFlight.Add(1)
	resp, b, _, err := Fetch(w.HTTP, req)
	inFlight.Add(-1)
	r := Rec{Kind: kind, Start: t.Sub(w.Start), End: time.Since(w.Start)}
	switch {
	case err != nil:
		r.Fail, r.Detail = Classify(err)
		resp, b = nil, nil
	case resp.StatusCode >= 500:
		r.Fail, r.Detail = "5xx", "status "+strconv.Itoa(resp.StatusCode)
	case check != nil:
		r.Fail, r.Detail = check(resp, b)
	case resp.StatusCode != http.StatusOK:
		r.Fail, r.Detail = "other", "status "+strconv.Itoa(resp.StatusCode)
	}
	if resp != nil {
		r.Status = resp.StatusCode
	}
	if ctx.Err() == nil || r.Fail == "" {
		w.Recs = append(w.Recs, r)
	}
	return r, resp, b
}

// Loop runs step until deadline or until ctx ends; after a request that got
// no answer it waits pause, so as not to spin while the site is down.
func (w *Worker) Loop(ctx context.Context, deadline time.Time, pause time.Duration, step func(context.Context) Rec) {
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if r := step(ctx); r.Status == 0 && r.Fail != "" {
			time.Sleep(pause)
		}
	}
}

// Every calls f every d until ctx ends.
func Every(ctx context.Context, d time.Duration, f func()) {
	for t := time.NewTicker(d); ; {
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			if ctx.Err() == nil { // both may be ready
				f()
			}
		}
	}
}

// Recs are the records of a load, in the order of their ends.
type Recs []Rec

// Collect puts the workers' records together, in the order of their ends,
// and their acknowledged references.
func Collect(ws []*Worker) (all Recs, acks []string) {
	for _, w := range ws {
		all, acks = append(all, w.Recs...), append(acks, w.Acks...)
	}
	slices.SortStableFunc(all, func(a, b Rec) int { return cmp.Compare(a.End, b.End) })
	return all, acks
}

// Where is the records keep accepts.
func (rs Recs) Where(keep func(*Rec) bool) (out Recs) {
	for i := range rs {
		if keep(&rs[i]) {
			out = append(out, rs[i])
		}
	}
	return out
}

// OK is the records of requests that succeeded; Failed, of the others.
func (rs Recs) OK() Recs     { return rs.Where(func(x *Rec) bool { return x.Fail == "" }) }
func (rs Recs) Failed() Recs { return rs.Where(func(x *Rec) bool { return x.Fail != "" }) }

// Details counts the records by what failed.
func (rs Recs) Details() Tally {
	t := Tally{}
	for _, x := range rs {
		t[x.Detail]++
	}
	return t
}

// Latencies is how long each request took.
func (rs Recs) Latencies() *Latencies {
	l := &Latencies{}
	for _, x := range rs {
		l.Add(x.End - x.Start)
	}
	return l
}

// PerSecond counts the records by the second in which they ended.
func (rs Recs) PerSecond(elapsed time.Duration) string {
	n := make([]int, (elapsed+time.Second-1)/time.Second)
	for _, x := range rs {
		n[min(int(x.End/time.Second), len(n)-1)]++
	}
	return strings.Trim(fmt.Sprint(n), "[]")
}

// WriteCSV writes one line per record to path.
func (rs Recs) WriteCSV(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	b := bufio.NewWriter(f)
	fmt.Fprintln(b, "kind,start_s,end_s,status,fail,degraded,detail")
	for _, x := range rs {
		fmt.Fprintf(b, "%s,%.4f,%.4f,%d,%s,%t,%q\n", x.Kind, x.Start.Seconds(), x.End.Seconds(), x.Status, x.Fail, x.Degraded, x.Detail)
	}
	return errors.Join(b.Flush(), f.Close())
}

// Tally counts things by name.
type Tally map[string]int

// String lists the counts, the largest first: "refused 12, closed 3"; or
// "none".
func (t Tally) String() string {
	keys := slices.SortedFunc(maps.Keys(t), func(a, b string) int { return cmp.Or(t[b]-t[a], strings.Compare(a, b)) })
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%s %d", k, t[k])
	}
	return cmp.Or(strings.Join(keys, ", "), "none")
}

// Latencies are durations of requests, with their nearest-rank percentiles.
type Latencies struct {
	D       []time.Duration
	Elapsed time.Duration // the time they took together, where known
}

// Add adds one; N is how many there are.
func (l *Latencies) Add(d time.Duration) { l.D = append(l.D, d) }
func (l *Latencies) N() int              { return len(l.D) }

// Pct is the p-th percentile (0 < p <= 1), 0 if there are none.
func (l *Latencies) Pct(p float64) time.Duration {
	if len(l.D) == 0 {
		return 0
	}
	if !slices.IsSorted(l.D) {
		slices.Sort(l.D)
	}
	return l.D[min(max(int(p*float64(len(l.D))+0.5)-1, 0), len(l.D)-1)]
}

// Summary is "p50 1.2ms  p90 …  p99 …  max …", in ms with the decimals.
func (l *Latencies) Summary(decimals int) string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", MS(l.Pct(.5), decimals), MS(l.Pct(.9), decimals), MS(l.Pct(.99), decimals), MS(l.Pct(1), decimals))
}
