package staff_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
)

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
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.Browser(t)
	form := b.Do("GET", "/staff/login", nil)
	if form.Status != 200 || form.Header.Get("X-Robots-Tag") == "" || form.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login form: %d %v", form.Status, form.Header)
	}
	// The form needs no session: its CSRF token is signed against a
	// __Host- nonce cookie.
	if b.Cookies["__Host-fl_session"] != "" || b.Cookies["__Host-fl_csrf"] == "" {
		t.Fatalf("login form cookies: %v", b.Cookies)
	}
	// A session id planted before sign-in (session fixation) is not kept.
	const pre = "planted-by-someone-else"
	b.Cookies["__Host-fl_session"] = pre
	res := b.Do("POST", "/staff/login", url.Values{"_csrf": {sitetest.CSRF(t, form)}, "email": {"  Ana@DRK.example "}, "password": {sitetest.Password}})
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/staff/" {
		t.Fatalf("login: %d %q", res.Status, res.Header.Get("Location"))
	}
	post := b.Cookies["__Host-fl_session"]
	if post == "" || post == pre {
		t.Fatal("the session id must change at login")
	}
	sc := res.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "Secure", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(strings.ToLower(sc), strings.ToLower(want)) {
			t.Errorf("session cookie lacks %s: %s", want, sc)
		}
	}
	// A session cookie: it dies with the browser.
	for _, not := range []string{"max-age", "expires"} {
		if strings.Contains(strings.ToLower(sc), not) {
			t.Errorf("session cookie outlives the browser (%s): %s", not, sc)
		}
	}
	dash := b.Do("GET", "/staff/", nil)
	if dash.Status != 200 || !strings.Contains(dash.Body, "ana@drk.example") || !strings.Contains(dash.Body, "German Red Cross") {
		t.Fatalf("dashboard: %d", dash.Status)
	}
	// The planted id opens nothing.
	old := e.Browser(t)
	old.Cookies["__Host-fl_session"] = pre
	if p := old.Do("GET", "/staff/", nil); p.Status != http.StatusSeeOther {
		t.Errorf("the planted session id works: %d", p.Status)
	}
	out := b.Do("POST", "/staff/logout", url.Values{"_csrf": {sitetest.CSRF(t, dash)}})
	if out.Status != http.StatusSeeOther {
		t.Fatalf("logout: %d", out.Status)
	}
	stolen := e.Browser(t)
	stolen.Cookies["__Host-fl_session"] = post
	if p := stolen.Do("GET", "/staff/", nil); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/staff/login" {
		t.Errorf("a logged-out session still opens the back office: %d", p.Status)
	}
	want := "login:ana@drk.example,dashboard.view:ana@drk.example,logout:ana@drk.example"
	if got := strings.Join(actions(t, e.Store), ","); got != want {
		t.Errorf("audit log %q, want %q", got, want)
	}
}

func TestWrongPasswordKeepsEmail(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.Browser(t)
	res := b.Login("ana@drk.example", "not the password")
	if res.Status != http.StatusUnauthorized || !strings.Contains(res.Body, `value="ana@drk.example"`) || !strings.Contains(res.Body, "wrong") {
		t.Fatalf("wrong password: %d", res.Status)
	}
	if p := b.Do("GET", "/staff/", nil); p.Status != http.StatusSeeOther {
		t.Error("a failed login must not open the back office")
	}
	res = b.Login("nobody@drk.example", sitetest.Password)
	if res.Status != http.StatusUnauthorized {
		t.Errorf("unknown account: %d", res.Status)
	}
	if got := strings.Join(actions(t, e.Store), ","); got != "login.failed:ana@drk.example,login.failed:nobody@drk.example" {
		t.Errorf("audit: %s", got)
	}
}

func TestDisabledAccountCannotLogIn(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "gone@drk.example", "de", store.RoleCaseworker)
	b := e.Browser(t)
	if res := b.Login("gone@drk.example", sitetest.Password); res.Status != http.StatusSeeOther {
		t.Fatalf("login: %d", res.Status)
	}
	if err := e.Store.DisableStaff(context.Background(), "gone@drk.example"); err != nil {
		t.Fatal(err)
	}
	if p := b.Do("GET", "/staff/", nil); p.Status != http.StatusSeeOther {
		t.Error("a disabled account's session must stop working")
	}
	if res := b.Login("gone@drk.example", sitetest.Password); res.Status != http.StatusUnauthorized {
		t.Errorf("disabled account logged in: %d", res.Status)
	}
}

func TestLoginThrottled(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.Browser(t)
	for i := 0; i < staff.MaxFailsPerEmail; i++ {
		if res := b.Login("ana@drk.example", "guess"); res.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i+1, res.Status)
		}
	}
	res := b.Login("ana@drk.example", sitetest.Password)
	if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after %d failures the right password must wait: %d", staff.MaxFailsPerEmail, res.Status)
	}
	// Per address: many accounts tried from one address.
	e2 := sitetest.New(t)
	e2.Account(t, "bo@drk.example", "de", store.RoleCaseworker)
	b2 := e2.Browser(t)
	for i := 0; i < staff.MaxFailsPerIP; i++ {
		b2.Login("x"+strings.Repeat("y", i)+"@drk.example", "guess")
	}
	if res := b2.Login("bo@drk.example", sitetest.Password); res.Status != http.StatusTooManyRequests {
		t.Fatalf("after %d failures from one address: %d", staff.MaxFailsPerIP, res.Status)
	}
	if !strings.Contains(strings.Join(actions(t, e2.Store), ","), "login.throttled:bo@drk.example") {
		t.Error("a throttled login must be audited")
	}
}

func TestCSRF(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.Browser(t)
	b.Do("GET", "/staff/login", nil)
	for _, tok := range []string{"", "forged"} {
		res := b.Do("POST", "/staff/login", url.Values{"_csrf": {tok}, "email": {"ana@drk.example"}, "password": {sitetest.Password}})
		if res.Status != http.StatusForbidden {
			t.Errorf("login with CSRF token %q: %d, want 403", tok, res.Status)
		}
	}
	// No session at all: refused too.
	fresh := e.Browser(t)
	if res := fresh.Do("POST", "/staff/login", url.Values{"email": {"ana@drk.example"}, "password": {sitetest.Password}}); res.Status != http.StatusForbidden {
		t.Errorf("login without a session: %d", res.Status)
	}
	if res := b.Login("ana@drk.example", sitetest.Password); res.Status != http.StatusSeeOther {
		t.Fatalf("login: %d", res.Status)
	}
	if res := b.Do("POST", "/staff/logout", url.Values{"_csrf": {"forged"}}); res.Status != http.StatusForbidden {
		t.Errorf("logout with a forged token: %d", res.Status)
	}
	if p := b.Do("GET", "/staff/", nil); p.Status != 200 {
		t.Error("a refused logout must leave the session alone")
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := staff.HashPassword(sitetest.Password)
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$") {
		t.Fatalf("hash %q %v", h, err)
	}
	if ok, err := staff.VerifyPassword(h, sitetest.Password); !ok || err != nil {
		t.Error("the right password must verify")
	}
	if ok, _ := staff.VerifyPassword(h, sitetest.Password+"!"); ok {
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
// must be listed here with how to reach it, so that no route can appear
// without a test that a stranger and another Society's caseworker are
// refused. Another Society's records answer 404, exactly like missing ones.
func TestEveryStaffRouteGuarded(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	// The French caseworker has a second factor: the French Society
	// administrator's attempt at the German rule makes it the French one.
	e.EnrolTOTP(t, e.Account(t, "luc@croix-rouge.example", "fr", store.RoleCaseworker))
	e.Account(t, "root@icrc.example", "", store.RoleAdmin)
	german := e.Enquiry(t, "de", "de", store.Personal{Name: "Amina", Email: "amina@example.org", SoughtName: "Yusuf"})
	ref := german.Reference
	ana, _ := e.Store.StaffByEmail(context.Background(), "ana@drk.example")
	pending, err := e.Store.CreateGalleryEntry(context.Background(), store.GalleryEntry{
		Ref: "TTF-GUARD", Society: "de", Gender: "male", AgeGroup: "18-29", Seeking: []string{"father"}, Origin: "sy",
		CaseKeyID: "k", CaseSealed: []byte("x"), ConsentDate: time.Now(), ConsentFormVersion: "v1", ConsentRecordedBy: "Ana",
		ReviewDate: time.Now().AddDate(1, 0, 0), CreatedBy: ana.ID,
	}, []store.Photo{{Width: 320, Height: 400, JPEG: []byte{0xFF, 0xD8}, ETag: `"x"`}})
	if err != nil {
		t.Fatal(err)
	}
	ttf := pending.Ref
	e.Account(t, "chef@croix-rouge.example", "fr", store.RoleSocietyAdmin)
	anaID := strconv.FormatInt(ana.ID, 10)
	germanInvite, err := e.Store.Invite(context.Background(), store.Invitation{Email: "eve@drk.example", Society: "de", Role: store.RoleCaseworker}, "german-token",
		func(id int64) store.InviteMail { return store.InviteMail{Invitation: id} })
	if err != nil {
		t.Fatal(err)
	}
	inviteID := strconv.FormatInt(germanInvite.ID, 10)
	type route struct {
		public bool   // reachable without signing in
		path   string // the concrete path to try, params filled in
		form   url.Values
		// foreign: what the French caseworker gets: 404 for German
		// records and for administrators' pages.
		foreign int
		// manager: what the French Red Cross's Society administrator
		// gets, when not foreign: it manages its own Society only.
		manager int
	}
	known := map[string]route{
		"GET /staff/login":   {public: true, path: "/staff/login"},
		"HEAD /staff/login":  {public: true, path: "/staff/login"},
		"POST /staff/login":  {public: true, path: "/staff/login"},
		"POST /staff/logout": {path: "/staff/logout"},
		// The second step of a sign-in, and the account's own second
		// factor: nothing of another account is reachable through them.
		"GET /staff/login/code":            {path: "/staff/login/code"},
		"HEAD /staff/login/code":           {path: "/staff/login/code"},
		"POST /staff/login/code":           {path: "/staff/login/code", form: url.Values{"code": {"123456"}}},
		"GET /staff/totp":                  {path: "/staff/totp"},
		"HEAD /staff/totp":                 {path: "/staff/totp"},
		"GET /staff/totp/qr.png":           {path: "/staff/totp/qr.png"},
		"HEAD /staff/totp/qr.png":          {path: "/staff/totp/qr.png"},
		"POST /staff/totp":                 {path: "/staff/totp", form: url.Values{"code": {"123456"}}},
		"POST /staff/totp/recovery":        {path: "/staff/totp/recovery", form: url.Values{"code": {"123456"}}},
		"POST /staff/totp/off":             {path: "/staff/totp/off", form: url.Values{"code": {"123456"}}},
		"GET /staff/":                      {path: "/staff/"},
		"HEAD /staff/":                     {path: "/staff/"},
		"GET /staff/password":              {path: "/staff/password"},
		"HEAD /staff/password":             {path: "/staff/password"},
		"POST /staff/password":             {path: "/staff/password"},
		"GET /staff/profile":               {path: "/staff/profile"},
		"HEAD /staff/profile":              {path: "/staff/profile"},
		"POST /staff/profile":              {path: "/staff/profile", form: url.Values{"language": {"en"}}},
		"GET /staff/enquiries":             {path: "/staff/enquiries"},
		"HEAD /staff/enquiries":            {path: "/staff/enquiries"},
		"GET /staff/enquiries/:ref":        {path: "/staff/enquiries/" + ref, foreign: 404},
		"HEAD /staff/enquiries/:ref":       {path: "/staff/enquiries/" + ref, foreign: 404},
		"POST /staff/enquiries/:ref/notes": {path: "/staff/enquiries/" + ref + "/notes", form: url.Values{"note": {"seen"}}, foreign: 404},
		"POST /staff/enquiries/:ref/status": {path: "/staff/enquiries/" + ref + "/status",
			form: url.Values{"status": {"closed"}, "outcome": {"no_result"}}, foreign: 404},
		"POST /staff/enquiries/:ref/transfer": {path: "/staff/enquiries/" + ref + "/transfer",
			form: url.Values{"to": {"fr"}, "reason": {"mine now"}}, foreign: 404},
		"GET /staff/inboxes":        {path: "/staff/inboxes", foreign: 404},
		"HEAD /staff/inboxes":       {path: "/staff/inboxes", foreign: 404},
		"POST /staff/inboxes/:code": {path: "/staff/inboxes/de", form: url.Values{"switched_off": {"yes"}}, foreign: 404},
		"GET /staff/audit":          {path: "/staff/audit?society=de", foreign: 404, manager: 200},
		"HEAD /staff/audit":         {path: "/staff/audit?society=de", foreign: 404, manager: 200},
		"GET /staff/audit.csv":      {path: "/staff/audit.csv?society=de", foreign: 404, manager: 200},
		"HEAD /staff/audit.csv":     {path: "/staff/audit.csv?society=de", foreign: 404, manager: 200},
		// Accounts: a Society administrator asking for the German Red
		// Cross gets its own Society's, and any German account is 404.
		"GET /staff/people":                         {path: "/staff/people?society=de", foreign: 404, manager: 200},
		"HEAD /staff/people":                        {path: "/staff/people?society=de", foreign: 404, manager: 200},
		"POST /staff/people/invite":                 {path: "/staff/people/invite", form: url.Values{"email": {"mallory@drk.example"}, "society": {"de"}, "role": {"caseworker"}}, foreign: 404, manager: 200},
		"POST /staff/people/policy":                 {path: "/staff/people/policy", form: url.Values{"society": {"de"}, "require_totp": {"yes"}}, foreign: 404, manager: 303},
		"POST /staff/people/invitations/:id/revoke": {path: "/staff/people/invitations/" + inviteID + "/revoke", form: url.Values{"society": {"de"}}, foreign: 404},
		"GET /staff/people/:id":                     {path: "/staff/people/" + anaID, foreign: 404},
		"HEAD /staff/people/:id":                    {path: "/staff/people/" + anaID, foreign: 404},
		"POST /staff/people/:id/role":               {path: "/staff/people/" + anaID + "/role", form: url.Values{"role": {"caseworker"}, "page_editor": {"yes"}}, foreign: 404},
		"POST /staff/people/:id/disable":            {path: "/staff/people/" + anaID + "/disable", foreign: 404},
		"POST /staff/people/:id/enable":             {path: "/staff/people/" + anaID + "/enable", foreign: 404},
		"POST /staff/people/:id/reset-totp":         {path: "/staff/people/" + anaID + "/reset-totp", foreign: 404},
		"GET /staff/invite/:token":                  {public: true, path: "/staff/invite/german-token"},
		"HEAD /staff/invite/:token":                 {public: true, path: "/staff/invite/german-token"},
		"POST /staff/invite/:token":                 {public: true, path: "/staff/invite/german-token"},
		"GET /staff/gallery":                        {path: "/staff/gallery"},
		"HEAD /staff/gallery":                       {path: "/staff/gallery"},
		"GET /staff/gallery/new":                    {path: "/staff/gallery/new"},
		"HEAD /staff/gallery/new":                   {path: "/staff/gallery/new"},
		"POST /staff/gallery":                       {path: "/staff/gallery"},
		"GET /staff/gallery/:ref":                   {path: "/staff/gallery/" + ttf, foreign: 404},
		"HEAD /staff/gallery/:ref":                  {path: "/staff/gallery/" + ttf, foreign: 404},
		"GET /staff/gallery/:ref/photo/:width":      {path: "/staff/gallery/" + ttf + "/photo/320.jpg", foreign: 404},
		"HEAD /staff/gallery/:ref/photo/:width":     {path: "/staff/gallery/" + ttf + "/photo/320.jpg", foreign: 404},
		"POST /staff/gallery/:ref/approve":          {path: "/staff/gallery/" + ttf + "/approve", foreign: 404},
		"POST /staff/gallery/:ref/withdraw":         {path: "/staff/gallery/" + ttf + "/withdraw", form: url.Values{"reason": {"other"}}, foreign: 404},
		"POST /staff/gallery/:ref/renew":            {path: "/staff/gallery/" + ttf + "/renew", form: url.Values{"review_date": {"2099-01-01"}}, foreign: 404},
		// A Society's contact card: its page editors and administrators
		// only (TestCardFourEyesOverHTTP tries a page editor of another
		// Society too).
		"GET /staff/cards/:society":              {path: "/staff/cards/de", foreign: 404},
		"HEAD /staff/cards/:society":             {path: "/staff/cards/de", foreign: 404},
		"POST /staff/cards/:society":             {path: "/staff/cards/de", form: url.Values{"desk_en": {"x"}}, foreign: 404},
		"POST /staff/cards/:society/confirm":     {path: "/staff/cards/de/confirm", foreign: 404},
		"POST /staff/cards/:society/:id/publish": {path: "/staff/cards/de/1/publish", foreign: 404},
		"POST /staff/cards/:society/:id/reject":  {path: "/staff/cards/de/1/reject", foreign: 404},
		"POST /staff/cards/:society/:id/restore": {path: "/staff/cards/de/1/restore", foreign: 404},
	}
	fr := e.Browser(t)
	if res := fr.Login("luc@croix-rouge.example", sitetest.Password); res.Status != http.StatusSeeOther {
		t.Fatalf("login: %d", res.Status)
	}
	frToken := sitetest.CSRF(t, fr.Get("/staff/"))
	chef := e.Browser(t)
	if res := chef.Login("chef@croix-rouge.example", sitetest.Password); res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/staff/" {
		t.Fatalf("Society administrator's login: %d %s", res.Status, res.Header.Get("Location"))
	}
	chefToken := sitetest.CSRF(t, chef.Get("/staff/"))
	seen := map[string]bool{}
	for _, r := range e.App.GetRoutes(true) {
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
		anon := e.Browser(t)
		res := anon.Do(r.Method, rt.path, rt.form)
		if r.Method == "POST" {
			if res.Status != http.StatusForbidden && res.Status != http.StatusSeeOther {
				t.Errorf("%s without a session: %d", key, res.Status)
			}
		} else if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/staff/login" {
			t.Errorf("%s without a session: %d, want a redirect to the login", key, res.Status)
		}
		if rt.foreign != 0 {
			form := url.Values{}
			for k, v := range rt.form {
				form[k] = v
			}
			form.Set("_csrf", frToken)
			if r.Method == "GET" || r.Method == "HEAD" {
				form = nil
			}
			if res := fr.Do(r.Method, rt.path, form); res.Status != rt.foreign {
				t.Errorf("%s: the French Red Cross got %d, want %d", key, res.Status, rt.foreign)
			}
			want := rt.manager
			if want == 0 {
				want = rt.foreign
			}
			if form != nil {
				form.Set("_csrf", chefToken)
			}
			res := chef.Do(r.Method, rt.path, form)
			if res.Status != want {
				t.Errorf("%s: the French Red Cross's Society administrator got %d, want %d", key, res.Status, want)
			}
			for _, german := range []string{"ana@drk.example", "eve@drk.example", ref, ttf} {
				if strings.Contains(res.Body, german) {
					t.Errorf("%s: the French Red Cross's Society administrator was shown %s", key, german)
				}
			}
		}
	}
	for key := range known {
		if !seen[key] {
			t.Errorf("route %s is listed but not registered", key)
		}
	}
	// Nothing the French caseworker tried changed the German enquiry.
	after, err := e.Store.EnquiryByRef(context.Background(), ref)
	if err != nil || after.Inbox != "de" || after.Status != store.StatusNew {
		t.Errorf("the German enquiry changed: inbox %s status %s %v", after.Inbox, after.Status, err)
	}
	if g, _ := e.Store.GalleryEntryByRef(context.Background(), ttf); g.Status != "pending" || !g.ReviewDate.Before(time.Now().AddDate(2, 0, 0)) {
		t.Errorf("the German gallery entry changed: %s", g.Status)
	}
	if ev, _ := e.Store.Events(context.Background(), german.ID); len(ev) != 0 {
		t.Errorf("the German enquiry gained %d events", len(ev))
	}
	if list := fr.Get("/staff/enquiries"); strings.Contains(list.Body, ref) {
		t.Error("the French inbox lists a German enquiry")
	}
	// Nor did the French Society administrator change a German account,
	// invitation or rule.
	if a, _ := e.Store.StaffByID(context.Background(), ana.ID); a.DisabledAt != nil || a.PageEditor || a.Role != store.RoleCaseworker {
		t.Errorf("the German caseworker's account changed: %+v", a)
	}
	if on, _ := e.Store.SocietyRequiresTOTP(context.Background(), "de"); on {
		t.Error("the German Red Cross's second-factor rule changed")
	}
	if invs, _ := e.Store.Invitations(context.Background(), "de", 10); len(invs) != 1 || !invs[0].Pending(time.Now()) {
		t.Errorf("the German Red Cross's invitations changed: %+v", invs)
	}
}

func TestOneTimePasswordMustBeChanged(t *testing.T) {
	e := sitetest.New(t)
	hash, _ := staff.HashPassword(sitetest.Password)
	if _, err := e.Store.CreateStaff(context.Background(), "new@drk.example", "de", store.RoleCaseworker, hash, true); err != nil {
		t.Fatal(err)
	}
	b := e.Browser(t)
	b.Login("new@drk.example", sitetest.Password)
	res := b.Do("GET", "/staff/", nil)
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/staff/password" {
		t.Fatalf("a one-time password must lead to the password form first: %d %q", res.Status, res.Header.Get("Location"))
	}
	form := b.Do("GET", "/staff/password", nil)
	tok := sitetest.CSRF(t, form)
	bad := b.Do("POST", "/staff/password", url.Values{"_csrf": {tok}, "current": {sitetest.Password}, "new": {"short"}, "confirm": {"short"}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "at least 12") {
		t.Fatalf("short password: %d", bad.Status)
	}
	mismatch := b.Do("POST", "/staff/password", url.Values{"_csrf": {tok}, "current": {sitetest.Password}, "new": {"a brand new secret"}, "confirm": {"a brand new secreT"}})
	if mismatch.Status != http.StatusUnprocessableEntity {
		t.Fatalf("mismatch: %d", mismatch.Status)
	}
	before := b.Cookies["__Host-fl_session"]
	ok := b.Do("POST", "/staff/password", url.Values{"_csrf": {tok}, "current": {sitetest.Password}, "new": {"a brand new secret"}, "confirm": {"a brand new secret"}})
	if ok.Status != http.StatusSeeOther || b.Cookies["__Host-fl_session"] == before {
		t.Fatalf("change: %d, session rotated: %v", ok.Status, b.Cookies["__Host-fl_session"] != before)
	}
	if res := b.Do("GET", "/staff/", nil); res.Status != 200 {
		t.Fatalf("after the change the dashboard opens: %d", res.Status)
	}
	if res := e.Browser(t).Login("new@drk.example", sitetest.Password); res.Status != http.StatusUnauthorized {
		t.Error("the one-time password must stop working")
	}
	if res := e.Browser(t).Login("new@drk.example", "a brand new secret"); res.Status != http.StatusSeeOther {
		t.Error("the new password must work")
	}
}

func TestAdminSetsInbox(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "root@icrc.example", "", store.RoleAdmin)
	b := e.Browser(t)
	b.Login("root@icrc.example", sitetest.Password)
	page := b.Get("/staff/inboxes")
	if page.Status != 200 || !strings.Contains(page.Body, "German Red Cross") {
		t.Fatalf("inboxes: %d", page.Status)
	}
	tok := sitetest.CSRF(t, page)
	if res := b.Do("POST", "/staff/inboxes/de", url.Values{"_csrf": {tok}, "email": {"not an address"}}); res.Status != http.StatusBadRequest {
		t.Errorf("a bad address: %d", res.Status)
	}
	if res := b.Do("POST", "/staff/inboxes/zz", url.Values{"_csrf": {tok}}); res.Status != http.StatusNotFound {
		t.Errorf("an unknown inbox: %d", res.Status)
	}
	if res := b.Do("POST", "/staff/inboxes/de", url.Values{"_csrf": {tok}, "email": {"suchdienst@drk.example"}, "switched_off": {"yes"}}); res.Status != http.StatusSeeOther {
		t.Fatalf("save: %d", res.Status)
	}
	in, err := e.Store.InboxByCode(context.Background(), "de")
	if err != nil || in.NotificationEmail == nil || *in.NotificationEmail != "suchdienst@drk.example" || !in.SwitchedOff || in.Active() {
		t.Fatalf("inbox after save: %+v %v", in, err)
	}
	if !strings.Contains(strings.Join(actions(t, e.Store), ","), "inbox.update:root@icrc.example") {
		t.Error("the change must be audited")
	}
}
