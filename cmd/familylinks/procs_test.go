package main

// The tests in this package run the familylinks binary the way an operator
// does: built once with `go build`, started as real processes over the
// PostgreSQL and Meilisearch that `familylinks testenv` (make test) starts,
// and spoken to over TCP.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/store/storetest"
)

var (
	binDir   string
	binOnce  sync.Once
	binPath  string
	binError error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds cmd/familylinks once per test run, as `make build` does.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		goCmd, err := exec.LookPath("go")
		if err != nil {
			goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if binDir, binError = os.MkdirTemp("", "familylinks-bin-"); binError != nil {
			return
		}
		binPath = filepath.Join(binDir, "familylinks")
		cmd := exec.Command(goCmd, "build", "-trimpath", "-o", binPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			binError = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binError != nil {
		t.Fatal(binError)
	}
	return binPath
}

// engines is one throw-away site's share of the test engines: a database
// of its own and an index prefix of its own in the shared Meilisearch.
type engines struct {
	AdminURL, DSN, DBName string
	MeiliURL, MeiliKey    string
	Prefix                string
	DataKey               string
	Search                *search.Client // the same indexes the site uses
}

// newEngines skips the test without the engines, or fails it when CI=true.
func newEngines(t *testing.T) *engines {
	t.Helper()
	mu := os.Getenv("FAMILYLINKS_TEST_MEILI_URL")
	if mu == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FAMILYLINKS_TEST_MEILI_URL is not set: run the tests through `make test` (CI=true forbids skipping Meilisearch)")
		}
		t.Skip("FAMILYLINKS_TEST_MEILI_URL is not set: run `make test` to run the site processes against real engines")
	}
	e := &engines{AdminURL: os.Getenv(storetest.EnvVar), DSN: storetest.DSN(t), MeiliURL: mu, MeiliKey: os.Getenv("FAMILYLINKS_TEST_MEILI_KEY")}
	u, err := url.Parse(e.DSN)
	if err != nil {
		t.Fatal(err)
	}
	e.DBName = strings.TrimPrefix(u.Path, "/")
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	e.Prefix = "p" + hex.EncodeToString(b) + "_"
	e.DataKey = crypt.NewKey("k1")
	if e.Search, err = search.New(search.Config{URL: mu, APIKey: e.MeiliKey, SearchWithAPIKey: true, Prefix: e.Prefix, Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, idx := range []string{e.Search.FacesIndex(), e.Search.FacesIndex() + "_new"} {
			if err := e.deleteIndex(ctx, idx); err != nil {
				t.Logf("cleanup: %v", err)
			}
		}
	})
	return e
}

// Env is the environment of a familylinks process over these engines; a
// process gets nothing else from the test's environment.
func (e *engines) Env(extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=" + e.DSN,
		"MEILI_URL=" + e.MeiliURL,
		"MEILI_API_KEY=" + e.MeiliKey,
		"FAMILYLINKS_INDEX_PREFIX=" + e.Prefix,
		crypt.EnvVar + "=" + e.DataKey,
		EnvCSRFKey + "=" + testCSRFKey,
		"FAMILYLINKS_LOG_LEVEL=debug",
	}, extra...)
}

// deleteIndex deletes a Meilisearch index the way an operator would with
// curl, and waits until it is gone.
func (e *engines) deleteIndex(ctx context.Context, uid string) error {
	req, _ := http.NewRequestWithContext(ctx, "DELETE", e.MeiliURL+"/indexes/"+uid, nil)
	req.Header.Set("Authorization", "Bearer "+e.MeiliKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return nil
	}
	if res.StatusCode != http.StatusAccepted {
		return fmt.Errorf("delete index %s: %s", uid, res.Status)
	}
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.MeiliURL+"/indexes/"+uid, nil)
		req.Header.Set("Authorization", "Bearer "+e.MeiliKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode == http.StatusNotFound {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("delete index %s: still there: %w", uid, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// run runs a familylinks command to completion and returns its output.
func run(t *testing.T, env []string, stdin string, args ...string) string {
	t.Helper()
	out, err := tryRun(t, env, stdin, args...)
	if err != nil {
		t.Fatalf("familylinks %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func tryRun(t *testing.T, env []string, stdin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env, cmd.Dir = env, t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// lockedBuffer is a process's output, written by exec's copier and read by
// the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// siteProc is a running `familylinks serve`.
type siteProc struct {
	Name string
	URL  string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startSite starts `familylinks serve` on a free port; it is stopped with
// SIGTERM when the test ends, and its log is printed if the test failed.
func startSite(t *testing.T, name string, env []string) *siteProc {
	t.Helper()
	addr := freeAddr(t)
	p := &siteProc{Name: name, URL: "http://" + addr, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary(t), "serve")
	p.cmd.Env = append(env, "FAMILYLINKS_ADDR="+addr)
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop(t)
		if t.Failed() {
			t.Logf("log of %s:\n%s", name, p.out.String())
		}
	})
	return p
}

// Ready waits until the site reports PostgreSQL and Meilisearch up.
func (p *siteProc) Ready(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case <-p.done:
			t.Fatalf("%s exited before it was ready: %v\n%s", p.Name, p.err, p.out.String())
		default:
		}
		res, err := http.Get(p.URL + "/readyz")
		if err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 && strings.Contains(string(b), `"status":"ready"`) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready after a minute (last: %v)\n%s", p.Name, err, p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *siteProc) Stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s: exit after SIGTERM: %v", p.Name, p.err)
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not stop within 30 s of SIGTERM", p.Name)
	}
}

// client is a browser behind the load balancer: one cookie jar for every
// replica (a jar keeps cookies per host, whatever the port, as browsers
// do), and the address the proxy in front of the replicas puts in
// X-Real-IP.
type client struct {
	t  *testing.T
	hc *http.Client
	IP string
}

func newClient(t *testing.T, ip string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, IP: ip, hc: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// page is a response, read whole.
type page struct {
	Status int
	Header http.Header
	Body   string
	Set    []*http.Cookie
}

func (c *client) do(method, u string, form url.Values, cookies ...*http.Cookie) page {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.IP != "" {
		req.Header.Set("X-Real-IP", c.IP)
	}
	for _, ck := range cookies {
		req.AddCookie(ck)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, u, err)
	}
	return page{res.StatusCode, res.Header, string(b), res.Cookies()}
}

func (c *client) get(u string) page { c.t.Helper(); return c.do("GET", u, nil) }

func (c *client) post(u string, form url.Values) page { c.t.Helper(); return c.do("POST", u, form) }

// cookie returns the value of a cookie the jar holds for u.
func (c *client) cookie(u, name string) string {
	pu, _ := url.Parse(u)
	for _, ck := range c.hc.Jar.Cookies(pu) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func csrf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF token in the page (status %d)", p.Status)
	}
	return m[1]
}

// login signs in: the form from one replica, the post to another.
func (c *client) login(formFrom, postTo, email, password string) page {
	c.t.Helper()
	f := c.get(formFrom + "/staff/login")
	if f.Status != 200 {
		c.t.Fatalf("login form: status %d", f.Status)
	}
	return c.post(postTo+"/staff/login", url.Values{"_csrf": {csrf(c.t, f)}, "email": {email}, "password": {password}})
}

// enquiry is what a person types into the contact form.
func enquiry(name, message string) url.Values {
	return url.Values{
		"residence": {"fr"}, "name": {name}, "email": {"someone@example.org"}, "phone": {""},
		"lang": {"en"}, "sought_name": {"Yusuf"}, "sought_age": {"45"}, "sought_place": {"Kabul"},
		"lost_when": {"2023"}, "relationship": {"son"}, "circumstance": {"conflict"},
		"message": {message}, "consent": {"yes"},
	}
}

// contact opens the contact form on one replica and sends it to another;
// it returns the answer and, when accepted, the enquiry's reference.
func (c *client) contact(formFrom, postTo string, form url.Values) (page, string) {
	c.t.Helper()
	f := c.get(formFrom + "/en/contact")
	if f.Status != 200 {
		c.t.Fatalf("contact form: status %d", f.Status)
	}
	form.Set("_csrf", csrf(c.t, f))
	p := c.post(postTo+"/en/contact", form)
	for _, ck := range p.Set {
		if ck.Name == "fl_sent" {
			return p, ck.Value
		}
	}
	return p, ""
}

// waitFor polls cond until it holds, or fails the test after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testCSRFKey is the CSRF key every process of a test shares, as replicas do.
var testCSRFKey = newCSRFKey()
