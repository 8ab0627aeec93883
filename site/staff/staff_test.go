package staff_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
	"github.com/gofiber/fiber/v2"
)

const password = "correct horse battery staple"

type env struct {
	app   *fiber.App
	store *store.Store
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := storetest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	data, err := content.Load()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.Load(log)
	if err != nil {
		t.Fatal(err)
	}
	app, err := site.New(site.Config{BaseURL: "https://familylinks.test"}, site.Deps{Content: data, Catalog: cat, Log: log, Store: st})
	if err != nil {
		t.Fatal(err)
	}
	return &env{app: app, store: st}
}

func (e *env) account(t *testing.T, email, society, role string) store.Staff {
	t.Helper()
	hash, err := staff.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.store.CreateStaff(context.Background(), email, society, role, hash, false)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// browser keeps cookies between requests, like a browser.
type browser struct {
	t       *testing.T
	e       *env
	cookies map[string]string
}

func (e *env) browser(t *testing.T) *browser {
	return &browser{t: t, e: e, cookies: map[string]string{}}
}

type page struct {
	status int
	header http.Header
	body   string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := b.e.app.Test(req, -1)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return page{res.StatusCode, res.Header, string(raw)}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func csrf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in page (status %d)", p.status)
	}
	return m[1]
}

func (b *browser) login(email, pw string) page {
	b.t.Helper()
	form := b.do("GET", "/staff/login", nil)
	return b.do("POST", "/staff/login", url.Values{"_csrf": {csrf(b.t, form)}, "email": {email}, "password": {pw}})
}

func actions(t *testing.T, s *store.Store) []string {
	t.Helper()
	log, err := s.AuditLog(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(log) - 1; i >= 0; i-- {
		out = append(out, log[i].Action+":"+log[i].Actor)
	}
	return out
}

func TestLoginRotatesSessionAndLogsOut(t *testing.T) {
	e := newEnv(t)
	e.account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.browser(t)
	form := b.do("GET", "/staff/login", nil)
	if form.status != 200 || form.header.Get("X-Robots-Tag") == "" || form.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login form: %d %v", form.status, form.header)
	}
	pre := b.cookies["__Host-fl_session"]
	if pre == "" {
		t.Fatalf("no __Host- session cookie: %v", b.cookies)
	}
	res := b.do("POST", "/staff/login", url.Values{"_csrf": {csrf(t, form)}, "email": {"  Ana@DRK.example "}, "password": {password}})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/staff/" {
		t.Fatalf("login: %d %q", res.status, res.header.Get("Location"))
	}
	post := b.cookies["__Host-fl_session"]
	if post == "" || post == pre {
		t.Fatal("the session id must change at login")
	}
	sc := res.header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(strings.ToLower(sc), strings.ToLower(want)) {
			t.Errorf("session cookie lacks %s: %s", want, sc)
		}
	}
	dash := b.do("GET", "/staff/", nil)
	if dash.status != 200 || !strings.Contains(dash.body, "ana@drk.example") || !strings.Contains(dash.body, "German Red Cross") {
		t.Fatalf("dashboard: %d", dash.status)
	}
	// The pre-login id opens nothing.
	old := e.browser(t)
	old.cookies["__Host-fl_session"] = pre
	if p := old.do("GET", "/staff/", nil); p.status != http.StatusSeeOther {
		t.Errorf("the pre-login session id still works: %d", p.status)
	}
	out := b.do("POST", "/staff/logout", url.Values{"_csrf": {csrf(t, dash)}})
	if out.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", out.status)
	}
	stolen := e.browser(t)
	stolen.cookies["__Host-fl_session"] = post
	if p := stolen.do("GET", "/staff/", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/staff/login" {
		t.Errorf("a logged-out session still opens the back office: %d", p.status)
	}
	want := "login:ana@drk.example,dashboard.view:ana@drk.example,logout:ana@drk.example"
	if got := strings.Join(actions(t, e.store), ","); got != want {
		t.Errorf("audit log %q, want %q", got, want)
	}
}

func TestWrongPasswordKeepsEmail(t *testing.T) {
	e := newEnv(t)
	e.account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.browser(t)
	res := b.login("ana@drk.example", "not the password")
	if res.status != http.StatusUnauthorized || !strings.Contains(res.body, `value="ana@drk.example"`) || !strings.Contains(res.body, "wrong") {
		t.Fatalf("wrong password: %d", res.status)
	}
	if p := b.do("GET", "/staff/", nil); p.status != http.StatusSeeOther {
		t.Error("a failed login must not open the back office")
	}
	res = b.login("nobody@drk.example", password)
	if res.status != http.StatusUnauthorized {
		t.Errorf("unknown account: %d", res.status)
	}
	if got := strings.Join(actions(t, e.store), ","); got != "login.failed:ana@drk.example,login.failed:nobody@drk.example" {
		t.Errorf("audit: %s", got)
	}
}

func TestDisabledAccountCannotLogIn(t *testing.T) {
	e := newEnv(t)
	e.account(t, "gone@drk.example", "de", store.RoleCaseworker)
	b := e.browser(t)
	if res := b.login("gone@drk.example", password); res.status != http.StatusSeeOther {
		t.Fatalf("login: %d", res.status)
	}
	if err := e.store.DisableStaff(context.Background(), "gone@drk.example"); err != nil {
		t.Fatal(err)
	}
	if p := b.do("GET", "/staff/", nil); p.status != http.StatusSeeOther {
		t.Error("a disabled account's session must stop working")
	}
	if res := b.login("gone@drk.example", password); res.status != http.StatusUnauthorized {
		t.Errorf("disabled account logged in: %d", res.status)
	}
}

func TestLoginThrottled(t *testing.T) {
	e := newEnv(t)
	e.account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.browser(t)
	for i := 0; i < staff.MaxFailsPerEmail; i++ {
		if res := b.login("ana@drk.example", "guess"); res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, res.status)
		}
	}
	res := b.login("ana@drk.example", password)
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures the right password must wait: %d", staff.MaxFailsPerEmail, res.status)
	}
	// Per address: many accounts tried from one address.
	e2 := newEnv(t)
	e2.account(t, "bo@drk.example", "de", store.RoleCaseworker)
	b2 := e2.browser(t)
	for i := 0; i < staff.MaxFailsPerIP; i++ {
		b2.login("x"+strings.Repeat("y", i)+"@drk.example", "guess")
	}
	if res := b2.login("bo@drk.example", password); res.status != http.StatusTooManyRequests {
		t.Fatalf("after %d failures from one address: %d", staff.MaxFailsPerIP, res.status)
	}
	if !strings.Contains(strings.Join(actions(t, e2.store), ","), "login.throttled:bo@drk.example") {
		t.Error("a throttled login must be audited")
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.browser(t)
	b.do("GET", "/staff/login", nil)
	for _, tok := range []string{"", "forged"} {
		res := b.do("POST", "/staff/login", url.Values{"_csrf": {tok}, "email": {"ana@drk.example"}, "password": {password}})
		if res.status != http.StatusForbidden {
			t.Errorf("login with CSRF token %q: %d, want 403", tok, res.status)
		}
	}
	// No session at all: refused too.
	fresh := e.browser(t)
	if res := fresh.do("POST", "/staff/login", url.Values{"email": {"ana@drk.example"}, "password": {password}}); res.status != http.StatusForbidden {
		t.Errorf("login without a session: %d", res.status)
	}
	if res := b.login("ana@drk.example", password); res.status != http.StatusSeeOther {
		t.Fatalf("login: %d", res.status)
	}
	if res := b.do("POST", "/staff/logout", url.Values{"_csrf": {"forged"}}); res.status != http.StatusForbidden {
		t.Errorf("logout with a forged token: %d", res.status)
	}
	if p := b.do("GET", "/staff/", nil); p.status != 200 {
		t.Error("a refused logout must leave the session alone")
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := staff.HashPassword(password)
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q %v", h, err)
	}
	if ok, err := staff.VerifyPassword(h, password); !ok || err != nil {
		t.Error("the right password must verify")
	}
	if ok, _ := staff.VerifyPassword(h, password+"!"); ok {
		t.Error("a wrong password verified")
	}
	if _, err := staff.HashPassword("short"); err == nil {
		t.Error("short passwords must be refused")
	}
	if p := staff.GeneratePassword(); len(p) != 24 {
		t.Errorf("generated password %q", p)
	}
}

// TestEveryStaffRouteGuarded walks the whole route table: every /staff route
// must be listed here with how it is reached, so that a new route cannot
// appear without a test that a stranger and another Society are refused.
func TestEveryStaffRouteGuarded(t *testing.T) {
	e := newEnv(t)
	e.account(t, "ana@drk.example", "de", store.RoleCaseworker)
	e.account(t, "luc@croix-rouge.example", "fr", store.RoleCaseworker)
	type route struct {
		public bool // reachable without logging in
		// crossSociety, when set, returns a path to another Society's
		// record for a caseworker of "fr" to try; "" when the route
		// holds no Society data.
		crossSociety func() string
	}
	known := map[string]route{
		"GET /staff/login":     {public: true},
		"HEAD /staff/login":    {public: true},
		"POST /staff/login":    {public: true},
		"POST /staff/logout":   {},
		"GET /staff/":          {},
		"HEAD /staff/":         {},
		"GET /staff/password":  {},
		"HEAD /staff/password": {},
		"POST /staff/password": {},
	}
	seen := map[string]bool{}
	for _, r := range e.app.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/staff") {
			continue
		}
		key := r.Method + " " + r.Path
		seen[key] = true
		rt, ok := known[key]
		if !ok {
			t.Errorf("staff route %s has no isolation test: add it to this table", key)
			continue
		}
		if rt.public {
			continue
		}
		anon := e.browser(t)
		var res page
		if r.Method == "POST" {
			res = anon.do("POST", r.Path, url.Values{})
			if res.status != http.StatusForbidden && res.status != http.StatusSeeOther {
				t.Errorf("%s without a session: %d", key, res.status)
			}
		} else {
			res = anon.do(r.Method, r.Path, nil)
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/staff/login" {
				t.Errorf("%s without a session: %d, want a redirect to the login", key, res.status)
			}
		}
		if rt.crossSociety != nil {
			fr := e.browser(t)
			fr.login("luc@croix-rouge.example", password)
			if res := fr.do(r.Method, rt.crossSociety(), nil); res.status != http.StatusNotFound {
				t.Errorf("%s: another Society's record answered %d, want 404", key, res.status)
			}
		}
	}
	for key := range known {
		if !seen[key] {
			t.Errorf("route %s is listed but not registered", key)
		}
	}
}

func TestOneTimePasswordMustBeChanged(t *testing.T) {
	e := newEnv(t)
	hash, _ := staff.HashPassword(password)
	if _, err := e.store.CreateStaff(context.Background(), "new@drk.example", "de", store.RoleCaseworker, hash, true); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.login("new@drk.example", password)
	res := b.do("GET", "/staff/", nil)
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/staff/password" {
		t.Fatalf("a one-time password must lead to the password form first: %d %q", res.status, res.header.Get("Location"))
	}
	form := b.do("GET", "/staff/password", nil)
	tok := csrf(t, form)
	bad := b.do("POST", "/staff/password", url.Values{"_csrf": {tok}, "current": {password}, "new": {"short"}, "confirm": {"short"}})
	if bad.status != http.StatusUnprocessableEntity || !strings.Contains(bad.body, "at least 12") {
		t.Fatalf("short password: %d", bad.status)
	}
	mismatch := b.do("POST", "/staff/password", url.Values{"_csrf": {tok}, "current": {password}, "new": {"a brand new secret"}, "confirm": {"a brand new secreT"}})
	if mismatch.status != http.StatusUnprocessableEntity {
		t.Fatalf("mismatch: %d", mismatch.status)
	}
	before := b.cookies["__Host-fl_session"]
	ok := b.do("POST", "/staff/password", url.Values{"_csrf": {tok}, "current": {password}, "new": {"a brand new secret"}, "confirm": {"a brand new secret"}})
	if ok.status != http.StatusSeeOther || b.cookies["__Host-fl_session"] == before {
		t.Fatalf("change: %d, session rotated: %v", ok.status, b.cookies["__Host-fl_session"] != before)
	}
	if res := b.do("GET", "/staff/", nil); res.status != 200 {
		t.Fatalf("after the change the dashboard opens: %d", res.status)
	}
	if res := e.browser(t).login("new@drk.example", password); res.status != http.StatusUnauthorized {
		t.Error("the one-time password must stop working")
	}
	if res := e.browser(t).login("new@drk.example", "a brand new secret"); res.status != http.StatusSeeOther {
		t.Error("the new password must work")
	}
}
