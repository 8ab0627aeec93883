package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/store"
)

var oneTimeLine = regexp.MustCompile(`one-time password: (\S+)\nit expires at (\d{4}-\d\d-\d\d \d\d:\d\d UTC) \(in 72 hours\)`)

// TestStaffCommandsAndCleanup runs the staff commands against a running
// site as an administrator would: `staff add` says when the one-time
// password expires, `staff reset` and `staff disable` end every session of
// the account; and the cleanup that `serve` runs purges stale rate-limit
// counters, expired sessions, old handled outbox rows and old audit
// addresses as soon as it starts.
func TestStaffCommandsAndCleanup(t *testing.T) {
	t.Parallel()
	e := newEngines(t)
	cli := e.Env()
	run(t, cli, "", "migrate")
	st, err := store.Open(t.Context(), e.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	db := st.Pool()
	exec := func(sql string) {
		t.Helper()
		if _, err := db.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(t.Context(), sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// What a site left behind: a stale counter, a handled message of last
	// month, a sign-in's address of last year.
	exec(`INSERT INTO rate_limits (key, window_start, count) VALUES ('stale', now() - interval '1 day', 3)`)
	exec(`INSERT INTO outbox (topic, payload, done_at) VALUES ('t', '{}', now() - interval '30 days')`)
	exec(`INSERT INTO audit_log (actor, action, ip, at) VALUES ('x@drk.example', 'login', '192.0.2.9', now() - interval '1 year')`)

	out := run(t, cli, "", "staff", "add", "--email", "ana@drk.test", "--society", "de", "--role", "caseworker")
	m := oneTimeLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("staff add does not say when the one-time password expires:\n%s", out)
	}
	if at, err := time.Parse("2006-01-02 15:04 MST", m[2]); err != nil || at.Sub(time.Now()) < 71*time.Hour || at.Sub(time.Now()) > 73*time.Hour {
		t.Errorf("expiry %q (%v), want in 72 hours", m[2], err)
	}
	otp := m[1]

	site := startSite(t, "site", e.Env("FAMILYLINKS_BASE_URL=http://familylinks.test", "FAMILYLINKS_TRUSTED_PROXIES=127.0.0.1"))
	site.Ready(t)
	signIn := func(password string) *client {
		t.Helper()
		c := newClient(t, "203.0.113.5")
		if p := c.login(site.URL, site.URL, "ana@drk.test", password); p.Status != http.StatusSeeOther {
			t.Fatalf("login: %d", p.Status)
		}
		return c
	}
	signedOut := func(c *client) bool {
		t.Helper()
		p := c.get(site.URL + "/staff/password")
		return p.Status == http.StatusSeeOther && p.Header.Get("Location") == "/staff/login"
	}
	a, b := signIn(otp), signIn(otp)

	out = run(t, cli, "", "staff", "reset", "--email", "ana@drk.test")
	if m = oneTimeLine.FindStringSubmatch(out); m == nil || m[1] == otp || !strings.Contains(out, "all its sessions are ended") {
		t.Fatalf("staff reset:\n%s", out)
	}
	if !signedOut(a) || !signedOut(b) {
		t.Error("staff reset left a session working")
	}
	if p := newClient(t, "203.0.113.6").login(site.URL, site.URL, "ana@drk.test", otp); p.Status != http.StatusUnauthorized {
		t.Errorf("the old one-time password after reset: %d", p.Status)
	}
	a, b = signIn(m[1]), signIn(m[1])
	out = run(t, cli, "", "staff", "disable", "--email", "ana@drk.test")
	if !strings.Contains(out, "all its sessions are ended") {
		t.Errorf("staff disable: %s", out)
	}
	if !signedOut(a) || !signedOut(b) {
		t.Error("staff disable left a session working")
	}

	// The cleanup ran when serve started: the stale rows are gone.
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := count(`SELECT count(*) FROM rate_limits WHERE key = 'stale'`) +
			count(`SELECT count(*) FROM outbox WHERE done_at < now() - interval '7 days'`) +
			count(`SELECT count(*) FROM audit_log WHERE ip IS NOT NULL AND at < now() - interval '90 days'`)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d stale rows left 30 s after serve started", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := count(`SELECT count(*) FROM audit_log WHERE actor = 'x@drk.example'`); n != 1 {
		t.Errorf("the cleanup deleted an audit row (%d left): it must only erase the address", n)
	}
}
