// Package benchkit is what the benchmark commands under deploy/bench share:
// a throw-away stack with the site binary as a child (bench.go), simulated
// visitors and what their requests did (load.go), the contact form and the
// durability check (enquiry.go), and figures about processes (proc.go).
package benchkit

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/familylinks/familylinks/internal/devstack"
)

// Main runs a bench with a context that Ctrl-C or SIGTERM cancels: it sets
// up the throw-away world o describes, hands it to run and closes it, then
// exits with the status run returns; an error is printed and makes it at
// least 2.
func Main(o Options, run func(context.Context, *Bench) (int, error)) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	b, err := Setup(ctx, o)
	code := 2
	if err == nil {
		code, err = run(ctx, b)
		err = errors.Join(err, b.Close())
	}
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", o.Name, err)
		code = max(code, 2)
	}
	os.Exit(code)
}

// Usage ends the program with status 2 and msg unless ok: a flag out of
// range, found before anything starts.
func Usage(ok bool, name, msg string) {
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: %s\n", name, msg)
		os.Exit(2)
	}
}

// bin is every bench's -bin flag: the site binary.
var bin = flag.String("bin", "var/bin/familylinks", "the site binary")

// Options say what a bench needs.
type Options struct {
	Name   string                        // bench-contact: for messages and the temp dir familylinks-<Name>-*
	Meili  bool                          // also start Meilisearch
	Env    []string                      // added to the site's environment, such as FAMILYLINKS_LOG_LEVEL=error
	LogDir string                        // where site.log goes, made if missing; the temp dir if empty
	Logf   func(format string, a ...any) // progress; by default "<Name>: ..." on stderr
}

// Bench is one bench's throw-away world: a temp dir, PostgreSQL (and
// Meilisearch) through devstack, a migrated schema, fresh keys, and the site
// processes it starts, one at a time, on one port.
type Bench struct {
	Bin, Work  string
	Stack      *devstack.Stack
	Addr, Base string   // 127.0.0.1:port, http://127.0.0.1:port
	Env        []string // the site's environment
	DataKey    string
	SiteLog    string      // every site process writes here
	OnStart    func(*Site) // called for each site process started
	Logf       func(format string, a ...any)
	log        *os.File
	mu         sync.Mutex
	sites      []*Site
}

// Setup makes the temp dir, starts the engines, makes keys and migrates.
// Close undoes it.
func Setup(ctx context.Context, o Options) (b *Bench, err error) {
	b = &Bench{Logf: o.Logf}
	if b.Logf == nil {
		b.Logf = func(format string, a ...any) { fmt.Fprintf(os.Stderr, o.Name+": "+format+"\n", a...) }
	}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	if b.Bin, err = filepath.Abs(*bin); err != nil {
		return nil, err
	}
	if _, err := os.Stat(b.Bin); err != nil {
		return nil, fmt.Errorf("%w (build it: make build)", err)
	}
	if b.Work, err = os.MkdirTemp("", "familylinks-"+o.Name+"-"); err != nil {
		return nil, err
	}
	if err := os.Chmod(b.Work, 0o755); err != nil { // the postgres user must get through it
		return nil, err
	}
	if err := os.MkdirAll(cmp.Or(o.LogDir, b.Work), 0o755); err != nil { // before the first progress line
		return nil, err
	}
	t0 := time.Now()
	if b.Stack, err = devstack.Start(ctx, devstack.Options{Dir: b.Work, SkipMeili: !o.Meili}); err != nil {
		return nil, fmt.Errorf("starting the engines: %w", err)
	}
	b.Logf("PostgreSQL%s up in %s (%s)", map[bool]string{true: " and Meilisearch"}[o.Meili],
		time.Since(t0).Round(time.Millisecond), strings.TrimSuffix(b.Stack.DatabaseURL+", "+b.Stack.MeiliURL, ", "))
	l, err := net.Listen("tcp", "127.0.0.1:0") // a port that was free a moment ago
	if err != nil {
		return nil, err
	}
	b.Addr, b.Base = l.Addr().String(), "http://"+l.Addr().String()
	l.Close()
	for _, kv := range os.Environ() { // nothing that would point the site elsewhere
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "FAMILYLINKS_") && k != "DATABASE_URL" && !strings.HasPrefix(k, "MEILI_") && !strings.HasPrefix(k, "PG") {
			b.Env = append(b.Env, kv)
		}
	}
	b.Env = append(append(b.Env, "DATABASE_URL="+b.Stack.DatabaseURL, "MEILI_URL="+b.Stack.MeiliURL,
		"MEILI_API_KEY="+b.Stack.MeiliKey, "FAMILYLINKS_ADDR="+b.Addr), o.Env...)
	key, err := b.Tool("", "keygen")
	csrf, err2 := b.Tool("", "keygen", "--csrf")
	if err = cmp.Or(err, err2); err != nil {
		return nil, err
	}
	b.DataKey = strings.TrimSpace(key)
	b.Env = append(b.Env, "FAMILYLINKS_DATA_KEY="+b.DataKey, "FAMILYLINKS_CSRF_KEY="+strings.TrimSpace(csrf))
	if _, err := b.Tool("", "migrate"); err != nil {
		return nil, err
	}
	b.SiteLog = filepath.Join(cmp.Or(o.LogDir, b.Work), "site.log")
	b.log, err = os.Create(b.SiteLog)
	return b, err
}

// Close stops the site processes and the engines and removes the temp dir.
func (b *Bench) Close() (err error) {
	b.StopSites()
	if b.Stack != nil {
		if err = b.Stack.Stop(); err != nil {
			err = fmt.Errorf("stopping the engines: %w", err)
		}
	}
	if b.log != nil {
		b.log.Close()
	}
	if b.Work != "" {
		os.RemoveAll(b.Work)
	}
	return err
}

// Tool runs a familylinks subcommand with the site's environment, feeding
// it stdin, and returns its standard output.
func (b *Bench) Tool(stdin string, args ...string) (string, error) {
	cmd := exec.Command(b.Bin, args...)
	cmd.Env, cmd.Dir, cmd.Stdin = b.Env, b.Work, strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("familylinks %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// AddStaff adds a member of the German Red Cross's staff, who can sign in
// if given a password.
func (b *Bench) AddStaff(email, role, password string) error {
	args := []string{"staff", "add", "--email", email, "--society", "de", "--role", role}
	if password != "" {
		args, password = append(args, "--password-stdin"), password+"\n"
	}
	_, err := b.Tool(password, args...)
	return err
}

// Site is one run of `familylinks serve` as a child process.
type Site struct {
	Cmd     *exec.Cmd
	Started time.Time
	Done    chan struct{} // closed once the process has exited and been reaped
	Err     error         // its exit error, valid after Done
}

// StartSite starts a site process and waits (30 s at most) until /healthz
// answers 200. It returns the site also when it does not answer.
func (b *Bench) StartSite(ctx context.Context) (*Site, error) {
	cmd := exec.Command(b.Bin, "serve")
	cmd.Env, cmd.Dir = b.Env, b.Work // not the checkout: var/dev.env must not leak in
	cmd.Stdout, cmd.Stderr = b.log, b.log
	// Its own process group, so that a Ctrl-C reaches only the bench, which
	// then stops the site in order; and it dies with the bench.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &Site{Cmd: cmd, Started: time.Now(), Done: make(chan struct{})}
	go func() { s.Err = cmd.Wait(); close(s.Done) }()
	b.mu.Lock()
	b.sites = append(b.sites, s)
	b.mu.Unlock()
	if b.OnStart != nil {
		b.OnStart(s)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for {
		if resp, _, _, err := Get(ctx, c, b.Base+"/healthz"); err == nil && resp.StatusCode == http.StatusOK {
			return s, nil
		}
		select {
		case <-s.Done:
			return s, fmt.Errorf("the site exited: %v%s", s.Err, b.Tail())
		case <-ctx.Done():
			return s, fmt.Errorf("the site did not answer: %w%s", ctx.Err(), b.Tail())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// Site is the site process started last.
func (b *Bench) Site() *Site {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sites[len(b.sites)-1]
}

// StopSites stops every site process and returns the CPU time they used.
func (b *Bench) StopSites() (cpu time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.sites {
		s.Stop()
		cpu += s.Cmd.ProcessState.UserTime() + s.Cmd.ProcessState.SystemTime()
	}
	return cpu
}

// Stop ends the site with SIGTERM, then SIGKILL after 15 s.
func (s *Site) Stop() {
	_ = s.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.Done:
	case <-time.After(15 * time.Second):
		_ = s.Cmd.Process.Kill()
		<-s.Done
	}
}

// Ready is what /readyz says: ready, degraded or unavailable; "down" if
// there is no answer.
func Ready(ctx context.Context, c *http.Client, base string) string {
	resp, b, _, err := Get(ctx, c, base+"/readyz")
	if err != nil {
		return "down"
	}
	var body struct{ Status string }
	if json.Unmarshal(b, &body) != nil || body.Status == "" {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return body.Status
}

// WaitReady waits (30 s at most) until /readyz says ready: the site has
// made its search-only key, and searches Meilisearch, not PostgreSQL.
func (b *Bench) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for c := (&http.Client{Timeout: time.Second}); ; time.Sleep(50 * time.Millisecond) {
		if s := Ready(ctx, c, b.Base); s == "ready" {
			return nil
		} else if ctx.Err() != nil {
			return fmt.Errorf("the site never reported ready: /readyz: %s%s", s, b.Tail())
		}
	}
}

// LogSummary counts the site's JSON log lines by message and error and
// describes the five most frequent.
func (b *Bench) LogSummary() string {
	raw, _ := os.ReadFile(b.SiteLog)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if lines[0] == "" {
		return "empty"
	}
	counts := map[string]int{}
	var keys, out []string
	for _, line := range lines {
		var e struct{ Msg, Err string }
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg != "" {
			line = strings.TrimSuffix(e.Msg+": "+e.Err, ": ")
		}
		if len(line) > 120 {
			line = line[:120] + "…"
		}
		if counts[line]++; counts[line] == 1 {
			keys = append(keys, line)
		}
	}
	slices.SortStableFunc(keys, func(a, b string) int { return counts[b] - counts[a] })
	for _, k := range keys[:min(len(keys), 5)] {
		out = append(out, fmt.Sprintf("%d× %q", counts[k], k))
	}
	if len(keys) > 5 {
		out = append(out, fmt.Sprintf("and %d other messages", len(keys)-5))
	}
	return strings.Join(out, "; ")
}

// Tail is the end of the site's log, for an error message, or "".
func (b *Bench) Tail() string {
	if raw, _ := os.ReadFile(b.SiteLog); len(raw) > 0 {
		return "\nsite log (end):\n" + string(raw[max(0, len(raw)-2000):])
	}
	return ""
}
