package staff_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/familylinks/familylinks/site"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
)

// signedIn returns n browsers signed in to one account.
func signedIn(t *testing.T, e *sitetest.Env, email string, n int) []*sitetest.Browser {
	t.Helper()
	var bs []*sitetest.Browser
	for range n {
		b := e.Browser(t)
		if res := b.Login(email, sitetest.Password); res.Status != http.StatusSeeOther {
			t.Fatalf("login: %d", res.Status)
		}
		bs = append(bs, b)
	}
	return bs
}

func signedOut(t *testing.T, b *sitetest.Browser) bool {
	t.Helper()
	p := b.Get("/staff/")
	return p.Status == http.StatusSeeOther && p.Header.Get("Location") == "/staff/login"
}

// TestPasswordChangeEndsEverySession: signed in on a laptop, a phone and by
// someone who stole a cookie; a password change on the laptop ends the two
// others, and the laptop carries on in a new session.
func TestPasswordChangeEndsEverySession(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	colleague := signedIn(t, e, e.Account(t, "bo@drk.example", "de", store.RoleCaseworker).Email, 1)[0]
	bs := signedIn(t, e, "ana@drk.example", 3)
	laptop, phone, thief := bs[0], bs[1], bs[2]
	form := laptop.Get("/staff/password")
	before := laptop.Cookies["__Host-fl_session"]
	res := laptop.Do("POST", "/staff/password", url.Values{"_csrf": {sitetest.CSRF(t, form)},
		"current": {sitetest.Password}, "new": {"a brand new secret"}, "confirm": {"a brand new secret"}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/staff/" {
		t.Fatalf("change: %d %q", res.Status, res.Header.Get("Location"))
	}
	if laptop.Cookies["__Host-fl_session"] == before {
		t.Error("the session id must change with the password")
	}
	if p := laptop.Get("/staff/"); p.Status != http.StatusOK {
		t.Errorf("the browser that changed the password was signed out: %d", p.Status)
	}
	for name, b := range map[string]*sitetest.Browser{"phone": phone, "thief": thief} {
		if !signedOut(t, b) {
			t.Errorf("the %s's session survived the password change", name)
		}
	}
	stale := e.Browser(t)
	stale.Cookies["__Host-fl_session"] = before
	if !signedOut(t, stale) {
		t.Error("the old session id of the changing browser still works")
	}
	if signedOut(t, colleague) {
		t.Error("another account's session ended too")
	}
}

// TestDisableEndsEverySession: what `familylinks staff disable` does ends
// every session of the account at once.
func TestDisableEndsEverySession(t *testing.T) {
	e := sitetest.New(t)
	a := e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	bs := signedIn(t, e, a.Email, 3)
	if err := e.Store.DisableStaff(context.Background(), a.Email); err != nil {
		t.Fatal(err)
	}
	for i, b := range bs {
		if !signedOut(t, b) {
			t.Errorf("session %d survived the disable", i)
		}
	}
	if n, _ := e.Store.CountSessions(context.Background(), a.ID); n != 0 {
		t.Errorf("%d session rows left", n)
	}
}

// TestAbsoluteLifetime: a session kept busy still ends MaxSessionAge after
// sign-in.
func TestAbsoluteLifetime(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := signedIn(t, e, "ana@drk.example", 1)[0]
	// Signed in just under MaxSessionAge ago, and busy all along.
	age := fmt.Sprintf("%d seconds", int((staff.MaxSessionAge - staff.IdleTimeout/2).Seconds()))
	if _, err := e.Store.Pool().Exec(context.Background(), `UPDATE sessions SET created_at = now() - $1::interval`, age); err != nil {
		t.Fatal(err)
	}
	if p := b.Get("/staff/"); p.Status != http.StatusOK {
		t.Fatalf("a session younger than %v: %d", staff.MaxSessionAge, p.Status)
	}
	age = fmt.Sprintf("%d seconds", int((staff.MaxSessionAge + staff.IdleTimeout/2).Seconds()))
	if _, err := e.Store.Pool().Exec(context.Background(), `UPDATE sessions SET created_at = now() - $1::interval`, age); err != nil {
		t.Fatal(err)
	}
	if !signedOut(t, b) {
		t.Errorf("a busy session older than %v still works", staff.MaxSessionAge)
	}
}

// TestExpiredOneTimePassword: a one-time password older than 72 hours is
// refused with a message that says so, and only to someone who knows it.
func TestExpiredOneTimePassword(t *testing.T) {
	e := sitetest.New(t)
	hash, err := staff.HashPassword(sitetest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.CreateStaff(context.Background(), "new@drk.example", "de", store.RoleCaseworker, hash, true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Pool().Exec(context.Background(), `UPDATE staff SET password_expires_at = now() - interval '1 minute'`); err != nil {
		t.Fatal(err)
	}
	res := e.Browser(t).Login("new@drk.example", sitetest.Password)
	if res.Status != http.StatusUnauthorized || !strings.Contains(res.Body, "one-time password has expired") || !strings.Contains(res.Body, "Ask an administrator") {
		t.Fatalf("expired one-time password: %d, want 401 saying it expired", res.Status)
	}
	if wrong := e.Browser(t).Login("new@drk.example", "not it at all"); strings.Contains(wrong.Body, "expired") {
		t.Error("a wrong password learnt that the one-time password expired")
	}
	if !strings.Contains(strings.Join(actions(t, e.Store), ","), "login.expired:new@drk.example") {
		t.Error("the refusal must be audited")
	}
}

// TestParallelGuessesStayUnderTheLimit: guesses sent all at once, against
// one account or from one address, get no more password checks than the
// limit allows. The attempt is counted before the password is checked.
func TestParallelGuessesStayUnderTheLimit(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	burst := func(n int, email func(i int) string) (checked, throttled int) {
		b := e.Browser(t)
		tok := sitetest.CSRF(t, b.Get("/staff/login"))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := b.Do("POST", "/staff/login", url.Values{"_csrf": {tok}, "email": {email(i)}, "password": {"guess"}})
				mu.Lock()
				defer mu.Unlock()
				switch res.Status {
				case http.StatusUnauthorized:
					checked++
				case http.StatusTooManyRequests, http.StatusServiceUnavailable:
					// Throttled, or refused because MaxHashes checks were
					// already running (it was counted all the same).
					throttled++
				default:
					t.Errorf("guess %d: %d", i, res.Status)
				}
			}()
		}
		wg.Wait()
		return checked, throttled
	}
	if checked, throttled := burst(30, func(int) string { return "ana@drk.example" }); checked > staff.MaxFailsPerEmail || checked+throttled != 30 {
		t.Errorf("30 parallel guesses at one account: %d checked, %d throttled; at most %d may be checked", checked, throttled, staff.MaxFailsPerEmail)
	}
	e2 := sitetest.New(t)
	e = e2
	if checked, throttled := burst(40, func(i int) string { return fmt.Sprintf("x%d@drk.example", i) }); checked > staff.MaxFailsPerIP || checked+throttled != 40 {
		t.Errorf("40 parallel guesses from one address: %d checked, %d throttled; at most %d may be checked", checked, throttled, staff.MaxFailsPerIP)
	}
	// One audit line for the throttling, not one per refused guess.
	n := 0
	for _, a := range actions(t, e2.Store) {
		if strings.HasPrefix(a, "login.throttled:") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d login.throttled audit lines, want 1", n)
	}
}

// TestIPv6ClientsLimitedBy64: behind the trusted proxy, failures from many
// addresses of one IPv6 /64 add up; another /64 is not held back.
func TestIPv6ClientsLimitedBy64(t *testing.T) {
	e := sitetest.NewWith(t, site.Config{BaseURL: sitetest.BaseURL, TrustedProxies: []string{"0.0.0.0"}})
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	from := func(ip string) *sitetest.Browser {
		b := e.Browser(t)
		b.Header.Set("X-Real-IP", ip)
		return b
	}
	for i := range staff.MaxFailsPerIP {
		if res := from(fmt.Sprintf("2001:db8:1:2::%x", i+1)).Login(fmt.Sprintf("x%d@drk.example", i), "guess"); res.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, res.Status)
		}
	}
	if res := from("2001:db8:1:2:ffff:ffff:ffff:ffff").Login("ana@drk.example", sitetest.Password); res.Status != http.StatusTooManyRequests {
		t.Errorf("another address of the same /64: %d, want 429", res.Status)
	}
	if res := from("2001:db8:1:3::1").Login("ana@drk.example", sitetest.Password); res.Status != http.StatusSeeOther {
		t.Errorf("an address of another /64: %d, want 303", res.Status)
	}
}

// tableRows counts the rows of every table of the database.
func tableRows(t *testing.T, st *store.Store) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	rows, err := st.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, n := range names {
		var c int64
		if err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM "`+n+`"`).Scan(&c); err != nil {
			t.Fatal(err)
		}
		out[n] = c
	}
	return out
}

// TestLoginFormStoresNothing: anonymous GETs of the login form add no row
// to any table, and its form still signs in.
func TestLoginFormStoresNothing(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	before := tableRows(t, e.Store)
	for range 50 {
		if p := e.Browser(t).Get("/staff/login"); p.Status != http.StatusOK {
			t.Fatalf("login form: %d", p.Status)
		}
	}
	if after := tableRows(t, e.Store); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("50 anonymous login forms changed the tables: before %v, after %v", before, after)
	}
}

// TestPasswordFormThrottled: the current password on the password form is
// counted like a sign-in, so a stolen session cannot guess it without
// limit.
func TestPasswordFormThrottled(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := signedIn(t, e, "ana@drk.example", 1)[0]
	tok := sitetest.CSRF(t, b.Get("/staff/password"))
	try := func(current string) int {
		return b.Do("POST", "/staff/password", url.Values{"_csrf": {tok}, "current": {current}, "new": {"a brand new secret"}, "confirm": {"a brand new secret"}}).Status
	}
	for i := range staff.MaxFailsPerEmail {
		if s := try("guess"); s != http.StatusUnprocessableEntity {
			t.Fatalf("guess %d: %d", i+1, s)
		}
	}
	if s := try(sitetest.Password); s != http.StatusTooManyRequests {
		t.Errorf("after %d wrong current passwords: %d, want 429", staff.MaxFailsPerEmail, s)
	}
}
