package site_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/andybalholm/cascadia"
	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/net/html"
)

const baseURL = "https://familylinks.test"

// logRecorder keeps every log record at warning level or above, so that a
// test can fail on a missing translation or a server error.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Message)
	rec.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	r.mu.Lock()
	r.msgs = append(r.msgs, b.String())
	r.mu.Unlock()
	return nil
}
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *logRecorder) WithGroup(string) slog.Handler      { return r }

func (r *logRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.msgs
	r.msgs = nil
	return m
}

type env struct {
	app     *fiber.App
	data    *content.Data
	catalog *locales.Catalog
	logs    *logRecorder
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rec := &logRecorder{}
	log := slog.New(rec)
	data, err := content.Load()
	if err != nil {
		t.Fatal(err)
	}
	cat, err := locales.Load(log)
	if err != nil {
		t.Fatal(err)
	}
	app, err := site.New(site.Config{BaseURL: baseURL}, site.Deps{Content: data, Catalog: cat, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return &env{app: app, data: data, catalog: cat, logs: rec}
}

type response struct {
	*http.Response
	body []byte
}

func (e *env) do(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := e.app.Test(req, -1)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res, b}
}

func (e *env) get(t *testing.T, path string, headers ...string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.do(t, req)
}

func parse(t *testing.T, b []byte) *html.Node {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("HTML does not parse: %v", err)
	}
	return doc
}

func all(doc *html.Node, sel string) []*html.Node {
	return cascadia.MustCompile(sel).MatchAll(doc)
}

// firstMatch is the first element under n that sel matches, or nil.
func firstMatch(n *html.Node, sel string) *html.Node { return cascadia.MustCompile(sel).MatchFirst(n) }

func one(t *testing.T, doc *html.Node, sel string) *html.Node {
	t.Helper()
	n := cascadia.MustCompile(sel).MatchFirst(doc)
	if n == nil {
		t.Fatalf("no element matches %q", sel)
	}
	return n
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
