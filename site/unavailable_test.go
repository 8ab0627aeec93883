package site_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
)

// pgProxy forwards TCP connections to PostgreSQL until it is cut, which
// closes every connection and refuses new ones, as a PostgreSQL that went
// away would.
type pgProxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pgProxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *pgProxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestDatabaseDownIs503: when PostgreSQL goes away, the pages that need it
// answer 503 with Retry-After and the localized "try again in a few
// minutes" page, not a 500; pages that do not need it keep serving.
func TestDatabaseDownIs503(t *testing.T) {
	u, err := url.Parse(storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newPGProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	st, err := store.Open(context.Background(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, err := content.Load()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cat, err := locales.Load(log)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := crypt.Parse(crypt.NewKey("t1"))
	if err != nil {
		t.Fatal(err)
	}
	app, err := site.New(site.Config{BaseURL: "https://familylinks.test"}, site.Deps{Content: data, Catalog: cat, Log: log, Store: st, Keys: keys, CSRFKey: make([]byte, 32)})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, string) {
		res, err := app.Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	if res, _ := get("/ar/trace-the-face"); res.StatusCode != 200 {
		t.Fatalf("with PostgreSQL up the gallery answers %d", res.StatusCode)
	}
	proxy.cut()
	st.Pool().Reset()
	ar := cat.Translator("ar")
	for _, path := range []string{"/ar/trace-the-face", "/ar/trace-the-face/TTF-7Q4K2", "/media/TTF-7Q4K2/320.jpg"} {
		res, body := get(path)
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s with PostgreSQL gone: %d, Retry-After %q; want 503 with Retry-After", path, res.StatusCode, res.Header.Get("Retry-After"))
		}
		if strings.HasPrefix(path, "/ar/") && !strings.Contains(body, ar.T("ErrorServerText")) {
			t.Errorf("%s: the 503 page is not the Arabic one", path)
		}
	}
	if res, _ := get("/ar/countries/sy"); res.StatusCode != 200 {
		t.Errorf("a country page needs no database, yet answers %d", res.StatusCode)
	}
}
