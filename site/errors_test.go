package site_test

import (
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/static"
	"github.com/familylinks/familylinks/site/web"
)

func TestNotFoundIsLocalized(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		url, accept, lang, dir string
	}{
		{"/en/countries/zz", "", "en", "ltr"},
		{"/ar/countries/zz", "", "ar", "rtl"},
		{"/prs/no-such-page", "", "fa-AF", "rtl"},
		{"/xx/countries", "fr-FR,fr", "fr", "ltr"}, // unknown language: negotiated
		{"/static/site.nothere.css", "uk", "uk", "ltr"},
		{"/favicon.ico", "", "en", "ltr"},
	}
	for _, tt := range tests {
		res := e.get(t, tt.url, "Accept-Language", tt.accept)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", tt.url, res.StatusCode)
			continue
		}
		doc := parse(t, res.body)
		h := one(t, doc, "html")
		if attr(h, "lang") != tt.lang || attr(h, "dir") != tt.dir {
			t.Errorf("%s: lang=%q dir=%q, want %s %s", tt.url, attr(h, "lang"), attr(h, "dir"), tt.lang, tt.dir)
		}
		code := tt.lang
		if code == "fa-AF" {
			code = "prs"
		}
		if got, want := text(one(t, doc, "h1")), e.catalog.Translator(code).T("ErrorNotFoundTitle"); got != want {
			t.Errorf("%s: h1 %q, want %q", tt.url, got, want)
		}
		if attr(one(t, doc, `meta[name=robots]`), "content") != "noindex" {
			t.Errorf("%s: error pages must not be indexed", tt.url)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: error pages need the security headers too", tt.url)
		}
	}
	for _, m := range e.logs.Take() {
		t.Errorf("log: %s", m)
	}
}

// TestSecurityHeaders pins the policy: changing it must be deliberate.
func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	want := map[string]string{
		"Content-Security-Policy":      "default-src 'none'; style-src 'self' " + web.StyleHash(siteCSS(t)) + "; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
		"Strict-Transport-Security":    "max-age=63072000; includeSubDomains",
		"X-Content-Type-Options":       "nosniff",
		"X-Frame-Options":              "DENY",
		"Referrer-Policy":              "strict-origin-when-cross-origin",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	if got := web.CSP(web.CSPDirectives(web.StyleHash(siteCSS(t)))); got != want["Content-Security-Policy"] {
		t.Errorf("CSP built as %q", got)
	}
	// Public pages carry the stylesheet inline, allowed by its hash: the
	// bytes in <style> must be exactly the ones hashed, or browsers drop
	// the whole style.
	for _, url := range []string{"/en/", "/ar/countries/sy", "/ti/trace-the-face"} {
		style := one(t, parse(t, e.get(t, url).body), "style")
		if style.FirstChild == nil || web.StyleHash(style.FirstChild.Data) != web.StyleHash(siteCSS(t)) {
			t.Errorf("%s: the inline style is not site.css as hashed in the CSP", url)
		}
	}
	// The back office links the stylesheet.
	cssURL := assetURL(t, "site.css")
	for _, url := range []string{"/", "/en/", "/ar/countries/sy", "/en/countries/zz", cssURL, "/healthz", "/sitemap.xml"} {
		res := e.get(t, url)
		for k, v := range want {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", url, k, got, v)
			}
		}
		if res.Header.Get("Permissions-Policy") == "" {
			t.Errorf("%s: no Permissions-Policy", url)
		}
	}
}

func TestCachedPagesCompressedWithETag(t *testing.T) {
	e := newEnv(t)
	plain := e.get(t, "/ti/countries/er")
	etag := plain.Header.Get("ETag")
	if plain.StatusCode != http.StatusOK || etag == "" || plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("identity: %d etag=%q enc=%q", plain.StatusCode, etag, plain.Header.Get("Content-Encoding"))
	}
	if !strings.Contains(plain.Header.Get("Vary"), "Accept-Encoding") {
		t.Error("Vary must name Accept-Encoding")
	}
	br := e.get(t, "/ti/countries/er", "Accept-Encoding", "gzip, deflate, br")
	if br.Header.Get("Content-Encoding") != "br" || br.Header.Get("ETag") != etag {
		t.Fatalf("brotli: enc=%q etag=%q", br.Header.Get("Content-Encoding"), br.Header.Get("ETag"))
	}
	dec, err := io.ReadAll(brotli.NewReader(bytes.NewReader(br.body)))
	if err != nil || !bytes.Equal(dec, plain.body) {
		t.Fatalf("brotli body differs from the page (err %v)", err)
	}
	gz := e.get(t, "/ti/countries/er", "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(bytes.NewReader(gz.body))
	if err != nil {
		t.Fatal(err)
	}
	dec, _ = io.ReadAll(zr)
	if gz.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(dec, plain.body) {
		t.Fatal("gzip body differs from the page")
	}
	if len(br.body) > 30*1024 || len(gz.body) > 30*1024 {
		t.Errorf("country page over the 30 KB budget: br %d, gzip %d", len(br.body), len(gz.body))
	}
	res := e.get(t, "/ti/countries/er", "If-None-Match", etag)
	if res.StatusCode != http.StatusNotModified || len(res.body) != 0 {
		t.Errorf("If-None-Match: %d with %d bytes, want 304 and no body", res.StatusCode, len(res.body))
	}
	if res := e.get(t, "/ti/countries/er", "If-None-Match", `"other"`); res.StatusCode != http.StatusOK {
		t.Errorf("a stale ETag must get the page, got %d", res.StatusCode)
	}
}

// assetURL is the content-hash URL of an embedded static file.
func assetURL(t *testing.T, name string) string {
	t.Helper()
	a, err := web.LoadAssets(static.FS)
	if err != nil || a.URL(name) == "" {
		t.Fatalf("no asset %s: %v", name, err)
	}
	return a.URL(name)
}

// siteCSS is the stylesheet as embedded.
func siteCSS(t *testing.T) string {
	t.Helper()
	b, err := fs.ReadFile(static.FS, "site.css")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestStaticAssetsImmutable(t *testing.T) {
	e := newEnv(t)
	doc := parse(t, e.get(t, "/en/").body)
	for _, url := range []string{assetURL(t, "site.css"), attr(one(t, doc, "link[rel=icon]"), "href")} {
		res := e.get(t, url, "Accept-Encoding", "br")
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d %q", url, res.StatusCode, res.Header.Get("Cache-Control"))
		}
	}
}

// TestStaffStylesOnlyInTheBackOffice: public pages carry site.css inline,
// so the back office's own rules (the second factor's QR code, lists of
// records that stack on a phone) live in staff.css, which only the back
// office links: a person on 2G does not download them with every page.
func TestStaffStylesOnlyInTheBackOffice(t *testing.T) {
	e := newEnv(t)
	staffCSS := assetURL(t, "staff.css")
	for _, path := range []string{"/en/", "/ar/countries/de", "/en/contact"} {
		page := string(e.get(t, path).body)
		if strings.Contains(page, ".list.stack") || strings.Contains(page, "img.qr") || strings.Contains(page, staffCSS) {
			t.Errorf("%s carries the back office's styles", path)
		}
	}
	login := sitetest.New(t).Browser(t).Get("/staff/login")
	one(t, parse(t, []byte(login.Body)), `link[rel=stylesheet][href="`+staffCSS+`"]`) // the back office links it
	if res := e.get(t, staffCSS); res.StatusCode != http.StatusOK || !strings.Contains(string(res.body), ".list.stack") {
		t.Errorf("%s: %d", staffCSS, res.StatusCode)
	}
}

func TestRobotsAndSitemap(t *testing.T) {
	e := newEnv(t)
	robots := string(e.get(t, "/robots.txt").body)
	if !strings.Contains(robots, "Disallow: /staff/") || !strings.Contains(robots, "Sitemap: "+baseURL+"/sitemap.xml") {
		t.Errorf("robots.txt: %q", robots)
	}
	res := e.get(t, "/sitemap.xml")
	var set struct {
		URLs []struct {
			Loc   string `xml:"loc"`
			Links []struct {
				HrefLang string `xml:"hreflang,attr"`
				Href     string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(res.body, &set); err != nil {
		t.Fatalf("sitemap is not XML: %v", err)
	}
	langs := len(e.catalog.Languages())
	if want := langs * len(publicPaths(e)); len(set.URLs) != want {
		t.Errorf("sitemap has %d URLs, want %d", len(set.URLs), want)
	}
	locs := map[string]bool{}
	for _, u := range set.URLs {
		locs[u.Loc] = true
		if len(u.Links) != langs+1 {
			t.Errorf("%s: %d alternates", u.Loc, len(u.Links))
		}
	}
	for _, want := range []string{baseURL + "/prs/countries/af", baseURL + "/ar/", baseURL + "/ti/faq"} {
		if !locs[want] {
			t.Errorf("sitemap lacks %s", want)
		}
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	if res := e.get(t, "/healthz"); res.StatusCode != http.StatusOK || string(res.body) != "ok\n" {
		t.Errorf("healthz: %d %q", res.StatusCode, res.body)
	}
}
