package site_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/andybalholm/cascadia"
	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/net/html"
)

const baseURL = sitetest.BaseURL

// env is the site without a database (sitetest.NewPublic), with the
// names the tests of this package use.
type env struct {
	app     *fiber.App
	data    *content.Data
	catalog *locales.Catalog
	logs    *sitetest.LogRecorder
	site    *sitetest.Env
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := sitetest.NewPublic(t)
	return &env{app: s.App, data: s.Data, catalog: s.Catalog, logs: s.Logs, site: s}
}

type response struct {
	*http.Response
	body []byte
}

func (e *env) do(t *testing.T, req *http.Request) response {
	t.Helper()
	res, b, err := e.site.Serve(req, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
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
