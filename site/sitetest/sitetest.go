// Package sitetest builds the whole site over a real, migrated PostgreSQL
// for tests, and a browser that keeps cookies between requests.
package sitetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site"
	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/contact"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
	"github.com/gofiber/fiber/v2"
)

// BaseURL is the origin the test site believes it has: HTTPS, so cookies
// are __Host- and Secure as in production.
const BaseURL = "https://familylinks.test"

// Password is every test account's password.
const Password = "correct horse battery staple"

// Env is a running site over a fresh database.
type Env struct {
	App     *fiber.App
	Store   *store.Store
	Keys    *crypt.Keyring
	Data    *content.Data
	Catalog *locales.Catalog
	// KeySpec is Keys in the FAMILYLINKS_DATA_KEY format.
	KeySpec string
	// CSRFKey signs the forms' tokens.
	CSRFKey []byte
	// Cards is the site's copy of the published Society cards.
	Cards *cards.Directory
	// Logs holds the site's warnings and errors (NewPublic only).
	Logs *LogRecorder
	// AnswerCap, when not zero, is how much of an answer Serve keeps: a
	// test sending thousands of requests need not read the 2.4 MB
	// sitemap to its end each time.
	AnswerCap int
	// totp holds the second-factor secret of each account that has one,
	// by e-mail address, for Login.
	totp sync.Map
	// started: the router's tree is built (App.Handler) before the first
	// request is served.
	started sync.Once
}

// New builds the site over a fresh, migrated database; a search client,
// when given, serves the gallery.
func New(t testing.TB, sc ...*search.Client) *Env {
	t.Helper()
	return NewWith(t, site.Config{BaseURL: BaseURL}, sc...)
}

// load reads the content and the catalogues.
func load(t testing.TB, log *slog.Logger) (*content.Data, *locales.Catalog) {
	t.Helper()
	data, err := content.Load()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.Load(log)
	if err != nil {
		t.Fatal(err)
	}
	return data, cat
}

// NewPublic builds the site without a database or search engine, as for
// a fuzz target that must stay cheap per input: the public pages and the
// forms' checks work; nothing can be stored.
func NewPublic(t testing.TB) *Env {
	t.Helper()
	logs := &LogRecorder{}
	log := slog.New(logs)
	data, cat := load(t, log)
	csrfKey := bytes.Repeat([]byte{7}, 32)
	app, err := site.New(site.Config{BaseURL: BaseURL}, site.Deps{Content: data, Catalog: cat, Log: log, CSRFKey: csrfKey})
	if err != nil {
		t.Fatal(err)
	}
	return &Env{App: app, Data: data, Catalog: cat, CSRFKey: csrfKey, Logs: logs}
}

// LogRecorder keeps every log record at warning level or above, so that a
// test can fail on a missing translation or a server error.
type LogRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *LogRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r *LogRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	r.mu.Lock()
	r.msgs = append(r.msgs, b.String())
	r.mu.Unlock()
	return nil
}
func (r *LogRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *LogRecorder) WithGroup(string) slog.Handler      { return r }

// Take returns the records kept since the last Take.
func (r *LogRecorder) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs = nil
	return m
}

// NewWith is New with the site's configuration given, for a site served
// on a real address.
func NewWith(t testing.TB, cfg site.Config, sc ...*search.Client) *Env {
	t.Helper()
	st := storetest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	data, cat := load(t, log)
	spec := crypt.NewKey("test1")
	keys, err := crypt.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	csrfKey := make([]byte, 32)
	_, _ = rand.Read(csrfKey)
	deps := site.Deps{Content: data, Catalog: cat, Log: log, Store: st, Keys: keys, CSRFKey: csrfKey}
	// As serve does: published cards are announced through PostgreSQL.
	deps.Cards = cards.NewDirectory(st.PublishedCards)
	lctx, stop := context.WithCancel(context.Background())
	listening := make(chan struct{})
	go func() {
		defer close(listening)
		st.Listen(lctx, store.CardsChannel, func(string) { deps.Cards.Changed() })
	}()
	t.Cleanup(func() { stop(); <-listening })
	if len(sc) > 0 {
		deps.Search = sc[0]
	}
	app, err := site.New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{App: app, Store: st, Keys: keys, Data: data, Catalog: cat, KeySpec: spec, CSRFKey: csrfKey, Cards: deps.Cards}
}

// Account creates a staff account with Password.
func (e *Env) Account(t testing.TB, email, society, role string) store.Staff {
	t.Helper()
	hash, err := staff.HashPassword(Password)
	if err != nil {
		t.Fatal(err)
	}
	a, err := e.Store.CreateStaff(context.Background(), email, society, role, hash, false)
	if err != nil {
		t.Fatal(err)
	}
	if a.NeedsTOTP() {
		e.EnrolTOTP(t, a)
		if a, err = e.Store.StaffByID(context.Background(), a.ID); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// EnrolTOTP gives an account a second factor, as if it had set one up
// (Account does it for administrators, who always need one), and returns
// its secret; Login then types its codes.
func (e *Env) EnrolTOTP(t testing.TB, a store.Staff) string {
	t.Helper()
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	kid, sealed := e.Keys.SealAt([]byte(secret), crypt.StaffTOTP(strconv.FormatInt(a.ID, 10)))
	ctx := context.Background()
	if err := e.Store.BeginTOTP(ctx, a.ID, kid, sealed); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.EnableTOTP(ctx, a.ID, 0, nil); err != nil {
		t.Fatal(err)
	}
	e.totp.Store(a.Email, secret)
	return secret
}

// TOTPCode returns a code of the account's second factor that the site has
// not seen yet: a code is good once, and for one 30-second step either
// side of now, so a third sign-in within a step waits for the next one.
func (e *Env) TOTPCode(t testing.TB, email string) string {
	t.Helper()
	v, ok := e.totp.Load(email)
	if !ok {
		t.Fatalf("%s has no second factor enrolled by the test", email)
	}
	return e.TOTPCodeFor(t, email, v.(string))
}

// TOTPCodeFor is TOTPCode for a secret the test learnt itself.
func (e *Env) TOTPCodeFor(t testing.TB, email, secret string) string {
	t.Helper()
	st, err := e.Store.StaffByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	tf, err := e.Store.TOTPOf(context.Background(), st.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The current step, not the one before: that one may have ended by
	// the time the site checks the code.
	cur := time.Now().Unix() / 30
	step := max(cur, tf.LastStep+1)
	if step > cur+1 {
		time.Sleep(time.Until(time.Unix((step-1)*30, 0)))
	}
	return staff.TOTPCode(secret, time.Unix(step*30, 0))
}

// Browser keeps cookies between requests, like a browser.
type Browser struct {
	t       testing.TB
	e       *Env
	Cookies map[string]string
	// Header is sent with every request (for example Accept-Language).
	Header http.Header
	// IP is the address the requests come from (0.0.0.0 when nil).
	IP net.IP
}

// Browser returns a browser with no cookies.
func (e *Env) Browser(t testing.TB) *Browser {
	return &Browser{t: t, e: e, Cookies: map[string]string{}, Header: http.Header{}}
}

// Page is a response, read whole.
type Page struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends a request; form, when not nil, is sent url-encoded.
func (b *Browser) Do(method, path string, form url.Values) Page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return b.send(req)
}

// Send sends a request made by the test, with the browser's headers and
// cookies.
func (b *Browser) Send(req *http.Request) Page { b.t.Helper(); return b.send(req) }

// send adds the browser's headers and cookies, sends the request and keeps
// the cookies the answer sets.
func (b *Browser) send(req *http.Request) Page {
	b.t.Helper()
	for k, v := range b.Header {
		req.Header[k] = v
	}
	for k, v := range b.Cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, body, err := b.e.Serve(req, b.IP)
	if err != nil {
		b.t.Fatal(err)
	}
	raw := body
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.Cookies, c.Name)
		} else {
			b.Cookies[c.Name] = c.Value
		}
	}
	return Page{res.StatusCode, res.Header, string(raw)}
}

// Get is Do with GET.
func (b *Browser) Get(path string) Page { b.t.Helper(); return b.Do("GET", path, nil) }

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// CSRF returns the form token in a page.
func CSRF(t testing.TB, p Page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no CSRF token in page (status %d)", p.Status)
	}
	return m[1]
}

// Login signs a browser in to the back office. For an account with a
// second factor enrolled by the test (EnrolTOTP), it types a code after a
// right password, and returns the answer to that.
func (b *Browser) Login(email, password string) Page {
	b.t.Helper()
	form := b.Get("/staff/login")
	res := b.Do("POST", "/staff/login", url.Values{"_csrf": {CSRF(b.t, form)}, "email": {email}, "password": {password}})
	if _, ok := b.e.totp.Load(email); !ok || res.Header.Get("Location") != "/staff/login/code" {
		return res
	}
	form = b.Get("/staff/login/code")
	return b.Do("POST", "/staff/login/code", url.Values{"_csrf": {CSRF(b.t, form)}, "code": {b.e.TOTPCode(b.t, email)}})
}

// Enquiry stores an enquiry for residence, routed to inbox, with sealed
// personal data, as the contact form would.
func (e *Env) Enquiry(t testing.TB, inbox, residence string, p store.Personal) store.Enquiry {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	ref := contact.NewReference()
	kid, sealed := e.Keys.SealAt(b, crypt.EnquiryPersonal(ref))
	en, err := e.Store.CreateEnquiry(context.Background(), store.Enquiry{
		Reference: ref, Kind: "residence", Residence: residence, Lang: "en", Inbox: inbox,
		RouteReason: content.ReasonSociety, RouteNote: "test", Relationship: "mother", Circumstance: "conflict",
		KeyID: &kid, Sealed: sealed,
	})
	if err != nil {
		t.Fatal(err)
	}
	return en
}

// Upload posts a multipart form with one file.
func (b *Browser) Upload(path string, fields url.Values, fileField, fileName string, data []byte) Page {
	b.t.Helper()
	ctype, body := Multipart(fields, fileField, fileName, data)
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	return b.send(req)
}

// Multipart encodes fields and, when fileField is set, one file as
// multipart/form-data.
func Multipart(fields url.Values, fileField, fileName string, data []byte) (contentType string, body []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, vs := range fields {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	if fileField != "" {
		// Writing to a bytes.Buffer cannot fail.
		fw, _ := mw.CreateFormFile(fileField, fileName)
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// Serve hands a request to the site's server as a connection from the
// address from would, and reads the answer. Unlike fiber's App.Test it
// also reads the answer the server writes when it refuses a request before
// any handler (headers past the read buffer, for example), as a real
// client would, and it needs no goroutine. An answer is kept up to
// AnswerCap bytes, when that is set.
func (e *Env) Serve(req *http.Request, from net.IP) (*http.Response, []byte, error) {
	if from == nil {
		from = net.IPv4zero
	}
	e.started.Do(func() { e.App.Handler() })
	if req.Body != http.NoBody && req.Body != nil {
		req.Header.Set("Content-Length", strconv.FormatInt(req.ContentLength, 10))
	}
	dump, err := httputil.DumpRequest(req, true)
	if err != nil {
		return nil, nil, err
	}
	conn := &memConn{r: bytes.NewReader(dump), from: from, limit: e.AnswerCap}
	_ = e.App.Server().ServeConn(conn) // its error is the refusal, answered on the connection
	res, err := http.ReadResponse(bufio.NewReader(&conn.w), req)
	if err != nil {
		return nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if conn.cut && errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return res, b, err
}

// memConn is a connection whose client has sent one request.
type memConn struct {
	r     io.Reader
	w     bytes.Buffer
	from  net.IP
	limit int  // how much of the answer to keep; 0: all
	cut   bool // the answer was longer than limit
}

func (c *memConn) Read(b []byte) (int, error) { return c.r.Read(b) }
func (c *memConn) Write(b []byte) (int, error) {
	if c.limit == 0 {
		return c.w.Write(b)
	}
	if room := c.limit - c.w.Len(); len(b) > room {
		c.cut = true
		c.w.Write(b[:max(room, 0)])
		return len(b), nil
	}
	return c.w.Write(b)
}
func (c *memConn) Close() error                     { return nil }
func (c *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4zero, Port: 443} }
func (c *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: c.from, Port: 40000} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
