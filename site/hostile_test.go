package site_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/contact"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/photo"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
	"github.com/gofiber/fiber/v2"
)

// TestHostileRequests replays a corpus of hostile requests against every
// route in the app's route table, logged out and logged in as a
// caseworker, in every language in turn. Every hostile value (markup, SQL,
// Meilisearch filters, invalid UTF-8, NUL and control characters,
// oversized; testdata/hostile/payloads.txt) goes to every route once, in a
// path parameter, the query, a form field (posted with a valid CSRF token,
// so that it reaches the handler), Accept-Language or a cookie, the place
// turning from value to value and route to route. Each POST route also
// gets bodies with the wrong Content-Type; each GET route a query past the
// read buffer and methods no route has; and raw request targets with
// traversal, encoded slashes and invalid bytes (testdata/hostile/paths.txt)
// go to the app as they are.
//
// What a visitor may get:
//
//   - never a 5xx: bad input is a 4xx with a page, not a server error;
//   - 200, 204, 304, a 3xx redirect to this site (a path starting with one
//     "/", or the site's own origin), or a 4xx;
//   - a method no route has (PUT, DELETE, PATCH, OPTIONS, TRACE, …): 404,
//     405 or 400, never a 2xx, and TRACE never echoes the request;
//   - a body over the body limit: 413; headers past the read buffer: 431;
//   - and no HTML answer carries markup from the payloads: parsed as a
//     browser would, no element, attribute, event handler, script or
//     javascript: URL that came from the request.
//
// A new route is covered as soon as it is registered; a new path
// parameter fails the test until hostile.param says how to fill it.
func TestHostileRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("the hostile corpus takes a while")
	}
	h := newHostile(t)
	t.Run("clients", func(t *testing.T) {
		for _, cl := range []*hostileClient{h.client("logged out", "", "192.0.2.1"), h.client("caseworker", "ana@drk.example", "192.0.2.2")} {
			t.Run(cl.name, func(t *testing.T) {
				t.Parallel()
				h.run(t, cl)
			})
		}
	})
	// The corpus must have reached the handlers: some posts carrying
	// payloads were accepted (a note, an enquiry), and the markup stored in
	// an enquiry came back to the caseworker as text.
	if h.accepted.Load() == 0 {
		t.Error("no post carrying a payload was accepted: the forms never got past CSRF and validation")
	}
	if !h.sawStoredAsText.Load() {
		t.Error("no enquiry page showed the stored markup as plain text")
	}
	t.Logf("%d hostile requests", h.sent.Load())
}

// hostile is the test site, its fixtures and the corpus.
type hostile struct {
	e        *sitetest.Env
	payloads []string
	paths    []string
	langs    []string
	// Fixtures: an enquiry of the caseworker's Society with hostile
	// personal data, and a published, indexed gallery entry.
	enquiry, entry  string
	invitation      string // an invitation's token
	cssURL          string
	anaID, boID     int64
	sent            atomic.Int64
	entries         atomic.Int64
	accepted        atomic.Int64
	sawStoredAsText atomic.Bool
}

func newHostile(t *testing.T) *hostile {
	t.Helper()
	sc := sitetest.Search(t)
	e := sitetest.New(t, sc)
	// The pages that can echo a payload are far smaller; the sitemap
	// (2.4 MB) is not read to its end, which under -race would take a
	// second each time.
	e.AnswerCap = 1 << 20
	h := &hostile{e: e, payloads: readCorpus(t, "testdata/hostile/payloads.txt"), paths: readCorpus(t, "testdata/hostile/paths.txt")}
	// Oversized values: past the message limit, 20 KB of markup, and 64 KB
	// (the body limit itself is tested with a 12 MB body).
	h.payloads = append(h.payloads,
		strings.Repeat("x", contact.MaxMessage+1),
		strings.Repeat("ا", contact.MaxMessage+1),
		strings.Repeat("<flx-x>", 3000),
		strings.Repeat("a", 64<<10))
	for _, l := range e.Catalog.Languages() {
		h.langs = append(h.langs, l.Code)
	}
	ana := e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	bo := e.Account(t, "bo@drk.example", "de", store.RoleCaseworker)
	h.anaID, h.boID = ana.ID, bo.ID
	h.enquiry = h.freshEnquiry(t)
	h.entry = h.publish(t, sc)
	h.invitation = "hostile-invitation"
	if _, err := e.Store.Invite(context.Background(), store.Invitation{Email: "new@drk.example", Society: "de", Role: store.RoleCaseworker}, h.invitation,
		func(id int64) store.InviteMail { return store.InviteMail{Invitation: id} }); err != nil {
		t.Fatal(err)
	}
	login := e.Browser(t).Get("/staff/login")
	m := regexp.MustCompile(`href="(/static/[^"]+\.css)"`).FindStringSubmatch(login.Body)
	if m == nil {
		t.Fatal("no stylesheet on the staff sign-in page")
	}
	h.cssURL = m[1]
	return h
}

// readCorpus reads a file of Go-quoted strings, one a line.
func readCorpus(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := strconv.Unquote(line)
		if err != nil {
			t.Fatalf("%s:%d: %v", name, n, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// freshEnquiry stores an enquiry for the German Red Cross whose personal
// data is all markup.
func (h *hostile) freshEnquiry(t testing.TB) string {
	xss := `<script>alert("flx")</script><img src=x onerror=alert('flx')>`
	return h.e.Enquiry(t, "de", "de", store.Personal{Name: xss, Email: `"><flx-x>@example.org`, Phone: "' OR '1'='1",
		SoughtName: xss, SoughtPlace: "</textarea><flx-x>", Message: xss}).Reference
}

// publish stores, approves and indexes a gallery entry with a real photo.
func (h *hostile) publish(t *testing.T, sc *search.Client) string {
	t.Helper()
	ctx := context.Background()
	ds, err := photo.Process(bytes.NewReader(silhouetteJPEG(t)))
	if err != nil {
		t.Fatal(err)
	}
	var photos []store.Photo
	for _, d := range ds {
		photos = append(photos, store.Photo{Width: d.Width, Height: d.Height, JPEG: d.JPEG, ETag: `"hostile"`})
	}
	kid, sealed := h.e.Keys.Seal([]byte(`<script>alert("flx")</script>`), []byte("TTF-H0ST1"))
	en, err := h.e.Store.CreateGalleryEntry(ctx, store.GalleryEntry{
		Ref: "TTF-H0ST1", Society: "de", Gender: "female", AgeGroup: "30-44", Seeking: []string{"mother"}, Origin: "af",
		Languages: []string{"ps"}, CaseKeyID: kid, CaseSealed: sealed, ConsentDate: time.Now(),
		ConsentFormVersion: "v1", ConsentRecordedBy: `<script>alert("flx")</script>`, ReviewDate: time.Now().AddDate(1, 0, 0),
		CreatedBy: h.boID,
	}, photos)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.e.Store.ApproveGalleryEntry(ctx, en.ID, h.anaID); err != nil {
		t.Fatal(err)
	}
	x := &gallery.Indexer{Store: h.e.Store, Search: sc, Catalog: h.e.Catalog}
	w := &store.Worker{Store: h.e.Store, Handlers: x.Handlers(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if p := h.e.Browser(t).Get("/en/trace-the-face?q=" + en.Ref); !strings.Contains(p.Body, "/en/trace-the-face/"+en.Ref) {
		t.Fatalf("the seeded entry is not found in the gallery (status %d)", p.Status)
	}
	return en.Ref
}

// freshEntry stores a pending entry created by Bo, which Ana may approve,
// withdraw or renew, so that posts change nothing the other routes need.
func (h *hostile) freshEntry(t testing.TB) string {
	ref := fmt.Sprintf("TTF-F%04d", h.entries.Add(1))
	kid, sealed := h.e.Keys.Seal([]byte("<flx-x>"), []byte(ref))
	en, err := h.e.Store.CreateGalleryEntry(context.Background(), store.GalleryEntry{
		Ref: ref, Society: "de", Gender: "male", AgeGroup: "18-29", Seeking: []string{"father"}, Origin: "sy",
		CaseKeyID: kid, CaseSealed: sealed, ConsentDate: time.Now(), ConsentFormVersion: "v1", ConsentRecordedBy: "Bo",
		ReviewDate: time.Now().AddDate(1, 0, 0), CreatedBy: h.boID,
	}, []store.Photo{{Width: 320, Height: 400, JPEG: []byte{0xFF, 0xD8, 0xFF, 0xD9}, ETag: `"x"`}})
	if err != nil {
		t.Fatal(err)
	}
	return en.Ref
}

// hostileClient is a browser, logged out or logged in, that sends raw
// requests.
type hostileClient struct {
	name, email string
	ip          net.IP // the address its requests come from
	cookies     map[string]string
	forms       []form // the POST forms on the pages this client can open
	queryNames  []string
	n           int // requests sent, to rotate languages
	// turns counts the bodies made per route and filling mode, to take the
	// forms that post to it in turn whatever other routes the table has.
	turns    map[string]int
	routes   int // routes done, to rotate where payloads go
	bigSent  bool
	failures int
}

// sessionCookie is the back office's session cookie.
const sessionCookie = "__Host-fl_session"

func (h *hostile) client(name, email string, ip string) *hostileClient {
	return &hostileClient{name: name, email: email, ip: net.ParseIP(ip), cookies: map[string]string{}}
}

// relogin signs the caseworker in again after a post ended its session,
// and puts the new session's CSRF token in the back-office forms.
func (h *hostile) relogin(t *testing.T, cl *hostileClient) {
	t.Helper()
	b := h.e.Browser(t)
	h.resetLogin(t, cl)
	if p := b.Login(cl.email, sitetest.Password); p.Status != http.StatusSeeOther {
		t.Fatalf("%s: login: %d", cl.name, p.Status)
	}
	tok := sitetest.CSRF(t, b.Get("/staff/"))
	// Signing in set a new CSRF nonce cookie, which the public forms'
	// tokens are signed against too: refresh theirs as well, or every
	// public post after a sign-in would be refused for its token alone.
	pub := sitetest.CSRF(t, b.Get("/"+h.langs[0]+"/contact"))
	for i := range cl.forms {
		for j := range cl.forms[i].fields {
			if f := &cl.forms[i].fields[j]; f.name == "_csrf" {
				if strings.HasPrefix(cl.forms[i].action, "/staff") {
					f.value = tok
				} else {
					f.value = pub
				}
			}
		}
	}
	for k, v := range b.Cookies {
		cl.cookies[k] = v
	}
}

// login signs the client in (when it has an account) and collects the
// forms of every page it can open.
func (h *hostile) login(t *testing.T, cl *hostileClient) {
	t.Helper()
	b := h.e.Browser(t)
	h.resetLogin(t, cl)
	h.primeLogin(t, cl)
	if cl.email != "" {
		if p := b.Login(cl.email, sitetest.Password); p.Status != http.StatusSeeOther {
			t.Fatalf("%s: login: %d", cl.name, p.Status)
		}
	}
	cl.forms, cl.queryNames = nil, []string{"q", "page", "country", "gender", "age", "origin", "seeking", "status", "inbox", "switch", "x"}
	pages := []string{"/staff/login", "/staff/", "/staff/password", "/staff/enquiries", "/staff/enquiries/" + h.enquiry,
		"/staff/inboxes", "/staff/gallery", "/staff/gallery/new", "/staff/gallery/" + h.freshEntry(t)}
	for _, l := range h.langs[:2] {
		pages = append(pages, "/"+l+"/", "/"+l+"/countries", "/"+l+"/contact", "/"+l+"/trace-the-face", "/"+l+"/trace-the-face/"+h.entry)
	}
	for _, p := range pages {
		page := b.Get(p)
		if page.Status != 200 {
			continue
		}
		doc, err := html.Parse(strings.NewReader(page.Body))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range forms(doc) {
			if f.method == "get" {
				for _, fl := range f.fields {
					if !slices.Contains(cl.queryNames, fl.name) {
						cl.queryNames = append(cl.queryNames, fl.name)
					}
				}
				continue
			}
			cl.forms = append(cl.forms, f)
		}
	}
	cl.cookies = b.Cookies
}

// run sends the whole corpus for one client.
func (h *hostile) run(t *testing.T, cl *hostileClient) {
	h.login(t, cl)
	routes := h.e.App.GetRoutes(true)
	for _, r := range routes {
		h.route(t, cl, r)
	}
	for _, p := range h.paths {
		for _, m := range []string{"GET", "HEAD", "POST"} {
			h.check(t, cl, request{method: m, uri: p, what: "raw target", target: true})
		}
	}
	// Pages that show what was stored, read after every post.
	for _, r := range routes {
		if r.Method == "GET" {
			h.check(t, cl, request{method: "GET", uri: h.fill(t, cl, r, "", "", false), what: "after the posts"})
		}
	}
	for _, ref := range h.postedEnquiries(cl) {
		h.check(t, cl, request{method: "GET", uri: "/staff/enquiries/" + ref, what: "an enquiry after the posts"})
	}
}

// params fills each path parameter of a route with a value that exists.
func (h *hostile) param(t *testing.T, route fiber.Route, name string, lang string, fresh bool) (string, bool) {
	switch name {
	case "lang":
		return lang, true
	case "iso2", "code", "society":
		return "de", true
	case "id":
		return "1", true
	case "token":
		return h.invitation, true
	case "file", "width":
		return "320.jpg", true
	case "*":
		return strings.TrimPrefix(h.cssURL, "/static/"), true
	case "ref":
		switch {
		case strings.HasPrefix(route.Path, "/staff/enquiries/"):
			if fresh {
				return h.freshEnquiry(t), true
			}
			return h.enquiry, true
		case strings.HasPrefix(route.Path, "/staff/gallery/"):
			if fresh {
				return h.freshEntry(t), true
			}
			return h.entry, true
		case strings.HasPrefix(route.Path, "/media/"), strings.HasPrefix(route.Path, "/:lang/trace-the-face/"):
			return h.entry, true
		}
	}
	return "", false
}

var paramRE = regexp.MustCompile(`:[a-zA-Z0-9_]+\??|\*`)

// fill returns the route's path with every parameter set to a value that
// exists, except hostileParam, set to payload (as sent on the wire).
func (h *hostile) fill(t *testing.T, cl *hostileClient, r fiber.Route, hostileParam, payload string, fresh bool) string {
	lang := h.langs[cl.n%len(h.langs)]
	return paramRE.ReplaceAllStringFunc(r.Path, func(p string) string {
		name := strings.TrimSuffix(strings.TrimPrefix(p, ":"), "?")
		if name == hostileParam {
			return payload
		}
		v, ok := h.param(t, r, name, lang, fresh)
		if !ok {
			t.Errorf("route %s %s: parameter %q has no value in hostile.param: add one so the route is covered", r.Method, r.Path, name)
		}
		return v
	})
}

// onWire is a payload as a hostile client puts it in a request target: only
// what would end the target or the line is escaped, invalid UTF-8 and
// markup go raw.
func onWire(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == '#' || c == '?' || c == '%' || c == 0x7f:
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// route sends the corpus to one route. Each payload goes, in turn, into
// each path parameter (escaped as a browser would, or raw as a hostile
// client may), then into every query parameter, Accept-Language, the
// language and confirmation cookies and the fields a person types, all in
// one request; then into every form field; then into the CSRF and session
// cookies.
func (h *hostile) route(t *testing.T, cl *hostileClient, r fiber.Route) {
	params := paramRE.FindAllString(r.Path, -1)
	// A post that reaches its handler may change its record: it gets a
	// fresh one, so that the seeded records stay as they are.
	fresh := r.Method == "POST" && cl.email != ""
	post := r.Method == "POST"
	base := func() string { return h.fill(t, cl, r, "", "", false) }
	valid := func() string { return h.fill(t, cl, r, "", "", fresh) }
	h.check(t, cl, request{method: r.Method, uri: valid(), what: "as is", body: h.body(cl, r, nil, "")})
	// Where each payload goes: every payload once per route, the place
	// turning from payload to payload and from route to route, so that
	// across the table each payload meets each place. HEAD answers come
	// from the GET handlers, tested in full: HEAD gets a sample.
	places := []string{"query, headers and typed fields", "session and CSRF cookies"}
	if len(params) > 0 {
		places = append(places, "path parameters")
	}
	if post {
		places = append(places, "every form field")
	}
	cl.routes++
	for i, pl := range h.payloads {
		place := places[(i+cl.routes)%len(places)]
		if r.Method == "HEAD" {
			if i%8 != 0 {
				continue
			}
			place = places[0]
		}
		switch place {
		case "path parameters":
			for _, p := range params {
				name := strings.TrimSuffix(strings.TrimPrefix(p, ":"), "?")
				enc, how := url.PathEscape(pl), "escaped"
				if i%2 == 1 {
					enc, how = onWire(pl), "raw"
				}
				h.check(t, cl, request{method: r.Method, uri: h.fill(t, cl, r, name, enc, fresh), what: how + " path parameter " + name, body: h.body(cl, r, nil, "")})
			}
		case "query, headers and typed fields":
			q := url.Values{}
			for _, n := range cl.queryNames {
				q.Set(n, pl)
			}
			uri := valid() + "?" + q.Encode()
			if i%2 == 1 {
				// Raw and repeated: the names twice, the second time hostile.
				uri = valid() + "?q=a&page=2&" + onWire(cl.queryNames[len(cl.queryNames)-1]) + "=" + onWire(pl) + "&q=" + onWire(pl) + "&page=" + onWire(pl)
			}
			cookie := "lang=" + pl + "; fl_sent=" + pl
			for k, v := range cl.cookies {
				cookie += "; " + k + "=" + v
			}
			typed := h.body(cl, r, &pl, "text")
			if typed == nil {
				typed = h.body(cl, r, nil, "")
			}
			h.check(t, cl, request{method: r.Method, uri: uri, what: place, rawCookies: true, payload: post,
				headers: [][2]string{{"Accept-Language", pl}, {"Cookie", cookie}}, body: typed})
			// One name alone, so that no other refused value stops the
			// handler before it reads this one.
			name := cl.queryNames[(i/len(places))%len(cl.queryNames)]
			h.check(t, cl, request{method: r.Method, uri: valid() + "?" + url.Values{name: {pl}}.Encode(), what: "query parameter " + name})
		case "every form field":
			h.check(t, cl, request{method: r.Method, uri: valid(), what: place, body: h.body(cl, r, &pl, "all"), payload: true})
		case "session and CSRF cookies":
			cookie := "__Host-fl_csrf=" + pl + "; fl_csrf=" + pl + "; " + sessionCookie + "=" + pl
			h.check(t, cl, request{method: r.Method, uri: base(), what: place, rawCookies: true,
				headers: [][2]string{{"Cookie", cookie}}, body: h.body(cl, r, nil, "")})
		}
	}
	if post {
		pl := `<script>alert("flx")</script>`
		fields := h.body(cl, r, &pl, "all")
		jsonBody, _ := json.Marshal(fields.values)
		for _, b := range []*body{
			{contentType: "application/json", raw: jsonBody},
			{contentType: "text/plain", raw: []byte(fields.values.Encode())},
			{contentType: "multipart/form-data", raw: []byte("--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n")},
			{contentType: "multipart/form-data; boundary=", raw: []byte("--\r\n")},
			{contentType: "multipart/form-data; boundary=x", raw: []byte("--x\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n" + fields.values.Get("_csrf"))},
			multipartBody(fields.values, "photo", []byte("<flx-x>\x00\xff")),
			{contentType: "application/x-www-form-urlencoded", raw: []byte("_csrf=" + url.QueryEscape(fields.values.Get("_csrf")) + "&%zz=%zz&%=&&=&a=%ff%00&" + strings.Repeat("k=v&", 5000))},
			{contentType: "application/x-www-form-urlencoded; charset=utf-7", raw: []byte(fields.values.Encode())},
			{contentType: "", raw: []byte(fields.values.Encode())},
			{contentType: "\xff\x00", raw: []byte(fields.values.Encode())},
		} {
			h.check(t, cl, request{method: "POST", uri: base(), what: "Content-Type " + strconv.Quote(b.contentType), body: b})
		}
		// Over the body limit: refused before any route is chosen, with
		// 413; once per client is enough.
		if !cl.bigSent {
			cl.bigSent = true
			big := &body{contentType: "application/x-www-form-urlencoded", raw: bytes.Repeat([]byte("a"), 12<<20)}
			h.check(t, cl, request{method: "POST", uri: base(), what: "a body over the limit", body: big, want: http.StatusRequestEntityTooLarge})
		}
	}
	if r.Method == "GET" {
		// A huge query string: past the read buffer.
		h.check(t, cl, request{method: "GET", uri: base() + "?q=" + strings.Repeat("%3Cflx-x%3E", 2000), what: "huge query", want: http.StatusRequestHeaderFieldsTooLarge})
		for _, m := range []string{"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "BREW"} {
			h.check(t, cl, request{method: m, uri: base(), what: "method " + m, body: &body{contentType: "text/plain", raw: []byte("<flx-x>")}, weird: true})
		}
	}
}

// body is a request body.
type body struct {
	contentType string
	raw         []byte
	values      url.Values // what was encoded, for forms
}

func multipartBody(v url.Values, fileField string, file []byte) *body {
	ctype, raw := sitetest.Multipart(v, fileField, "<flx-x>.jpg", file)
	return &body{contentType: ctype, raw: raw, values: v}
}

// body builds a POST body for route r from the form the client saw for it:
// payload nil sends the form as a browser would; mode "all" puts the
// payload in every field but the CSRF token, "text" only in the fields a
// person types into (nil if the form has none). Routes whose form the
// client never saw get the CSRF token of a form of the same area and every
// field name the client has seen.
func (h *hostile) body(cl *hostileClient, r fiber.Route, payload *string, mode string) *body {
	if r.Method != "POST" {
		return nil
	}
	re := regexp.MustCompile("^" + paramRE.ReplaceAllStringFunc(r.Path, func(string) string { return "[^/]+" }) + "$")
	// Several forms may post to one route (the contact form and a photo's
	// "Do you have information?" form): take them in turn.
	var matching []*form
	for i := range cl.forms {
		if re.MatchString(cl.forms[i].action) {
			matching = append(matching, &cl.forms[i])
		}
	}
	var f *form
	if len(matching) > 0 {
		if cl.turns == nil {
			cl.turns = map[string]int{}
		}
		// Per route and per way of filling the form: each place where a
		// payload goes meets every form in turn.
		turn := r.Path + " " + mode
		f = matching[cl.turns[turn]%len(matching)]
		cl.turns[turn]++
	} else {
		// Synthesized: the token of this area and every field name seen.
		staff := strings.HasPrefix(r.Path, "/staff")
		syn := form{action: r.Path}
		seen := map[string]bool{}
		for _, g := range cl.forms {
			if strings.HasPrefix(g.action, "/staff") != staff {
				continue
			}
			for _, fl := range g.fields {
				if seen[fl.name] {
					continue
				}
				seen[fl.name] = true
				if fl.name != "_csrf" {
					fl.kind = "text"
				}
				syn.fields = append(syn.fields, fl)
			}
		}
		f = &syn
	}
	v := url.Values{}
	typed := false
	for _, fl := range f.fields {
		val := fl.value
		if payload != nil && fl.name != "_csrf" {
			switch {
			case mode == "all":
				val = *payload
			case fl.kind == "text" && fl.name != "website":
				// The honeypot ("website") is left as a person leaves it:
				// filled, it turns every post away before validation, and
				// whether a payload reached the handlers would then hang on
				// which form this route happened to get.
				val, typed = *payload, true
			}
		}
		if fl.kind == "file" {
			continue
		}
		v.Add(fl.name, val)
	}
	if payload != nil && mode == "text" && !typed {
		return nil
	}
	if f.multipart {
		var file []byte
		if payload != nil {
			file = []byte(*payload)
		}
		return multipartBody(v, "photo", file)
	}
	return &body{contentType: "application/x-www-form-urlencoded", raw: []byte(v.Encode()), values: v}
}

// request is one hostile request.
type request struct {
	method, uri, what string
	headers           [][2]string
	rawCookies        bool // headers carry the Cookie header: do not add the client's
	body              *body
	want              int  // the status required, when one is
	weird             bool // a method no route has
	payload           bool // the body carries a payload
	target            bool // a raw target from paths.txt: it must reach no file
}

// check sends a request and records what is wrong with the answer.
func (h *hostile) check(t *testing.T, cl *hostileClient, rq request) {
	cl.n++
	h.sent.Add(1)
	if rq.method == "POST" || strings.HasPrefix(rq.uri, "/media/") {
		h.resetLimits(t, cl)
	}
	var rd io.Reader
	if rq.body != nil {
		rd = bytes.NewReader(rq.body.raw)
	}
	req := httptest.NewRequest("GET", "/", rd)
	req.Method, req.RequestURI = rq.method, rq.uri
	if rq.body != nil && rq.body.contentType != "" {
		req.Header.Set("Content-Type", rq.body.contentType)
	}
	if !rq.rawCookies {
		var cs []string
		for k, v := range cl.cookies {
			cs = append(cs, k+"="+v)
		}
		if len(cs) > 0 {
			req.Header.Set("Cookie", strings.Join(cs, "; "))
		}
	}
	for _, hv := range rq.headers {
		req.Header[hv[0]] = append(req.Header[hv[0]], hv[1])
	}
	desc := fmt.Sprintf("%s: %s %.120q (%s)", cl.name, rq.method, rq.uri, rq.what)
	res, raw, err := h.e.Serve(req, cl.ip)
	if err != nil {
		h.fail(t, cl, "%s: no answer: %v", desc, err)
		return
	}
	relogin := false
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie && cl.email != "" && !rq.rawCookies {
			// Logged out, or a new session: sign in again.
			relogin = true
		}
	}
	// A logout that got through ends the client's real session even when
	// the request carried its cookies raw (with payloads beside them).
	if cl.email != "" && strings.HasPrefix(rq.uri, "/staff/logout") && res.StatusCode == http.StatusSeeOther {
		relogin = true
	}
	if relogin {
		defer h.relogin(t, cl)
	}
	st := res.StatusCode
	// Accepted: sent on to another page, as after a stored note or a sent
	// enquiry; not to the sign-in, and not back to the page posted to.
	if loc, path := res.Header.Get("Location"), strings.SplitN(rq.uri, "?", 2)[0]; rq.method == "POST" && st == http.StatusSeeOther && rq.payload &&
		!strings.HasPrefix(loc, "/staff/login") && loc != path {
		h.accepted.Add(1)
	}
	switch {
	case st >= 500:
		h.fail(t, cl, "%s: status %d, want a 4xx", desc, st)
	case rq.want != 0 && st != rq.want:
		h.fail(t, cl, "%s: status %d, want %d", desc, st, rq.want)
	case rq.weird && st != http.StatusNotFound && st != http.StatusMethodNotAllowed && st != http.StatusBadRequest:
		h.fail(t, cl, "%s: status %d, want 404, 405 or 400", desc, st)
	case st < 200, st > 200 && st < 300 && st != http.StatusNoContent:
		h.fail(t, cl, "%s: status %d", desc, st)
	case st >= 300 && st < 400 && st != http.StatusNotModified:
		loc := res.Header.Get("Location")
		if !(strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, `/\`)) && !strings.HasPrefix(loc, sitetest.BaseURL+"/") {
			h.fail(t, cl, "%s: redirect to %q, off the site", desc, loc)
		}
	}
	if rq.target {
		// Nothing outside what the site serves: not its source, not the
		// system's files.
		for _, s := range []string{"module github.com/familylinks", "package static", "root:x:0:0", "[fonts]"} {
			if bytes.Contains(raw, []byte(s)) {
				h.fail(t, cl, "%s: the answer holds a file from outside the site (%q)", desc, s)
			}
		}
		if (strings.Contains(rq.uri, "..") || strings.Contains(strings.ToLower(rq.uri), "%2e%2e")) && st == http.StatusOK {
			h.fail(t, cl, "%s: a traversal answered 200", desc)
		}
	}
	if rq.weird && bytes.Contains(raw, []byte("<flx-x>")) {
		h.fail(t, cl, "%s: the answer echoes the request body", desc)
	}
	ct := res.Header.Get("Content-Type")
	if len(raw) == 0 || strings.HasPrefix(ct, "image/") || strings.HasPrefix(ct, "text/css") || strings.HasPrefix(ct, "image/svg") {
		return
	}
	if !strings.HasPrefix(ct, "text/html") {
		for _, s := range []string{"<flx-x", "<script", "onerror=", "flxattr"} {
			if bytes.Contains(raw, []byte(s)) {
				h.fail(t, cl, "%s: a %s answer holds %q unescaped", desc, ct, s)
			}
		}
		return
	}
	if !bytes.Contains(raw, []byte("flx")) && !bytes.Contains(raw, []byte("evil.example")) {
		return // every markup payload carries one of these, as text or as markup
	}
	doc, err := html.Parse(bytes.NewReader(raw))
	if err != nil {
		h.fail(t, cl, "%s: the page does not parse: %v", desc, err)
		return
	}
	for _, bad := range injected(doc) {
		h.fail(t, cl, "%s: payload markup in the page: %s", desc, bad)
	}
	if strings.HasPrefix(rq.uri, "/staff/enquiries/") && strings.Contains(text(doc), `<script>alert("flx")</script>`) {
		h.sawStoredAsText.Store(true)
	}
}

func (h *hostile) fail(t *testing.T, cl *hostileClient, format string, args ...any) {
	t.Helper()
	cl.failures++
	if cl.failures <= 40 {
		t.Errorf(format, args...)
	} else if cl.failures == 41 {
		t.Errorf("%s: more failures not shown", cl.name)
	}
}

// primeLogin brings the client's failed sign-ins to four short of the
// limit: only the first four hostile sign-ins spend an argon2 hash; the
// rest stop at the throttle, which
// still reads the hostile address against the counters and shows it back.
// The counters are the store's own, under its keyed names.
func (h *hostile) primeLogin(t *testing.T, cl *hostileClient) {
	key := "login:ip:" + cl.ip.String()
	if err := h.e.Store.ResetHits(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	for range staff.MaxFailsPerIP - 4 {
		if _, _, err := h.e.Store.Hit(context.Background(), key, staff.LoginWindow); err != nil {
			t.Fatal(err)
		}
	}
}

// resetLimits forgets the client's counters of the contact form and the
// media, so that each request reaches its handler instead of the limiter.
// Failed sign-ins add up (see primeLogin).
func (h *hostile) resetLimits(t *testing.T, cl *hostileClient) {
	for _, key := range []string{"contact:ip:" + cl.ip.String(), "media:" + cl.ip.String()} {
		if err := h.e.Store.ResetHits(context.Background(), key); err != nil {
			t.Fatal(err)
		}
	}
}

// resetLogin forgets the failed sign-ins that would stop the client's own
// sign-in (made by a sitetest browser, from 0.0.0.0).
func (h *hostile) resetLogin(t *testing.T, cl *hostileClient) {
	for _, key := range []string{"login:ip:0.0.0.0", "login:email:" + cl.email} {
		if err := h.e.Store.ResetHits(context.Background(), key); err != nil {
			t.Fatal(err)
		}
	}
}

// postedEnquiries lists the caseworker's enquiries, to read the notes
// posted to them.
func (h *hostile) postedEnquiries(cl *hostileClient) []string {
	if cl.email == "" {
		return nil
	}
	list, err := h.e.Store.Enquiries(context.Background(), store.EnquiryFilter{Inbox: "de", Limit: 20})
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Reference)
	}
	return out
}

// injected lists what in a parsed page can only have come from a payload:
// the payloads' own elements and attributes, event-handler attributes and
// javascript: URLs (the site has none), scripts, frames, <base> and
// refresh <meta> (the site has none of those either).
func injected(doc *html.Node) []string {
	var out []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "flx-x", "script", "iframe", "object", "embed", "base", "svg", "math":
				out = append(out, "<"+n.Data+">")
			case "meta":
				if strings.EqualFold(attr(n, "http-equiv"), "refresh") {
					out = append(out, "<meta http-equiv=refresh>")
				}
			}
			for _, a := range n.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case a.Key == "flxattr", strings.HasPrefix(a.Key, "on"):
					out = append(out, fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val))
				case strings.HasPrefix(v, "javascript:") && urlAttrs[a.Key]:
					out = append(out, fmt.Sprintf("<%s %s=%q>", n.Data, a.Key, a.Val))
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// urlAttrs are the attributes a browser follows as a URL.
var urlAttrs = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "data": true, "poster": true, "srcset": true, "background": true}

// form is a form in a page, as a browser would submit it.
type form struct {
	action, method string
	multipart      bool
	fields         []field
}

// field is one named control: kind is "text" for what a person types,
// "hidden", "choice" (select, checkbox, radio) or "file".
type field struct {
	name, kind, value string
}

// forms lists the forms of a page with the value each control would
// submit untouched (a select's selected or first non-empty option, a
// checkbox checked).
func forms(doc *html.Node) []form {
	var out []form
	var cur *form
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			name := attr(n, "name")
			switch n.Data {
			case "form":
				out = append(out, form{action: attr(n, "action"), method: strings.ToLower(attr(n, "method")),
					multipart: attr(n, "enctype") == "multipart/form-data"})
				cur = &out[len(out)-1]
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
				cur = nil
				return
			case "input":
				if cur != nil && name != "" {
					switch typ := attr(n, "type"); typ {
					case "hidden":
						cur.fields = append(cur.fields, field{name, "hidden", attr(n, "value")})
					case "checkbox", "radio":
						cur.fields = append(cur.fields, field{name, "choice", attr(n, "value")})
					case "file":
						cur.fields = append(cur.fields, field{name, "file", ""})
					case "submit", "button", "image", "reset":
					default:
						cur.fields = append(cur.fields, field{name, "text", attr(n, "value")})
					}
				}
			case "textarea":
				if cur != nil && name != "" {
					cur.fields = append(cur.fields, field{name, "text", text(n)})
				}
			case "select":
				if cur != nil && name != "" {
					val := ""
					for _, o := range all(n, "option") {
						if _, sel := attrOK(o, "selected"); sel || (val == "" && attr(o, "value") != "") {
							val = attr(o, "value")
							if sel {
								break
							}
						}
					}
					cur.fields = append(cur.fields, field{name, "choice", val})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attrOK(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

// silhouetteJPEG is a valid 400×500 photo.
func silhouetteJPEG(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo.Silhouette(7, 400, 500), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
