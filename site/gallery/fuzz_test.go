package gallery_test

import (
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/andybalholm/cascadia"
	"golang.org/x/net/html"

	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// FuzzGalleryQuery sends arbitrary search text, filters and page numbers to
// the gallery, over the real PostgreSQL and Meilisearch, in a language
// chosen by the fuzzer. The answer is a page or a 400, never a 5xx; it
// parses; it holds no element or attribute the gallery's own pages do not
// have (so nothing typed became markup); and when the gallery is shown,
// the search box, the selected filters and the page links hold exactly
// what was asked for.
func FuzzGalleryQuery(f *testing.F) {
	f.Add(uint8(0), "", "", "", "", "", "")
	f.Add(uint8(1), "afganistan", "female", "30-44", "af", "mother", "1")
	f.Add(uint8(3), "TTF-7Q4K2", "", "", "AF", "", "2")
	f.Add(uint8(2), `"><img src=x onerror=alert('flx')>`, "", "", "", "", "")
	f.Add(uint8(4), `<script>alert("flx")</script>`, `" onmouseover="x`, "'><b>", "</select><i>", "mother\" OR gender = \"male", "1e3")
	f.Add(uint8(5), "\xff\xfe\x00", "\x00", "60+", "zz", "cousin", "-1")
	f.Add(uint8(6), " \r\n padded\ttext \r\n", "male", "15-17", "so", "other", "10001")
	f.Add(uint8(7), strings.Repeat("ا", 600), "", "", "", "", "9223372036854775808")
	f.Add(uint8(8), "origin = af AND _geoRadius(0, 0, 1)", "", "", "", "", "0")
	sc := sitetest.Search(f)
	e := sitetest.New(f, sc)
	e.Account(f, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(f, "b@drk.example", "de", store.RoleCaseworker)
	e.Publish(f, "TTF-7Q4K2", "female", "af", "mother", "brother")
	e.Publish(f, "TTF-9PL3D", "male", "so", "father")
	x := &gallery.Indexer{Store: e.Store, Search: sc, Catalog: e.Catalog}
	w := &store.Worker{Store: e.Store, Handlers: x.Handlers(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := w.RunOnce(context.Background()); err != nil {
		f.Fatal(err)
	}
	var langs []string
	for _, l := range e.Catalog.Languages() {
		langs = append(langs, l.Code)
	}
	// The elements and attributes the gallery's pages have: its list and its
	// error page, in a language of each direction.
	known := map[string]bool{}
	b := e.Browser(f)
	for _, p := range []string{"/en/trace-the-face", "/ar/trace-the-face?origin=af&page=1", "/en/trace-the-face?gender=robot", "/ps/trace-the-face?q=mother&page=2"} {
		doc, err := html.Parse(strings.NewReader(b.Get(p).Body))
		if err != nil {
			f.Fatal(err)
		}
		vocabulary(doc, known)
	}

	f.Fuzz(func(t *testing.T, lang uint8, q, gender, age, origin, seeking, page string) {
		v := url.Values{}
		for k, s := range map[string]string{"q": q, "gender": gender, "age": age, "origin": origin, "seeking": seeking, "page": page} {
			if s != "" {
				v.Set(k, s)
			}
		}
		path := "/" + langs[int(lang)%len(langs)] + "/trace-the-face?" + v.Encode()
		if len(path) > 8000 {
			// Past the server's 8 KB read buffer the request never reaches
			// the site: fasthttp answers 431 itself on a real connection,
			// and app.Test only returns an error.
			t.Skip("request line longer than the server reads")
		}
		res := e.Browser(t).Get(path)
		if res.Status >= 500 || (res.Status != 200 && res.Status != 400) {
			t.Fatalf("%s: status %d, want 200 or 400", path, res.Status)
		}
		doc, err := html.Parse(strings.NewReader(res.Body))
		if err != nil {
			t.Fatalf("%s: the page does not parse: %v", path, err)
		}
		seen := map[string]bool{}
		vocabulary(doc, seen)
		for k := range seen {
			if !known[k] {
				t.Fatalf("%s: the page has %s, which the gallery's own pages never have: typed text became markup", path, k)
			}
		}
		if res.Status != 200 {
			return
		}
		// Echoed exactly, as a browser shows it; the parser itself replaces
		// invalid UTF-8 and NUL, so those are not compared.
		typed := strings.TrimSpace(q)
		if utf8.ValidString(typed) && !strings.ContainsRune(typed, 0) {
			box := cascadia.MustCompile(`input[name="q"]`).MatchFirst(doc)
			if box == nil {
				t.Fatalf("%s: no search box", path)
			}
			if got, want := attr(box, "value"), strings.ReplaceAll(strings.ReplaceAll(typed, "\r\n", "\n"), "\r", "\n"); got != want {
				t.Fatalf("%s: the search box shows %q, typed %q", path, got, typed)
			}
		}
		for name, want := range map[string]string{"gender": gender, "age": age, "origin": strings.ToLower(origin), "seeking": seeking} {
			var got []string
			for _, o := range cascadia.MustCompile(`select[name="` + name + `"] option[selected]`).MatchAll(doc) {
				got = append(got, attr(o, "value"))
			}
			if want == "" && len(got) == 1 && got[0] == "" {
				continue // the "any" option
			}
			if want != "" && (len(got) != 1 || got[0] != want) || want == "" && len(got) != 0 {
				t.Fatalf("%s: filter %s shows %q selected, asked for %q", path, name, got, want)
			}
		}
		// Page links keep the search and the filters.
		for _, a := range cascadia.MustCompile(`a[rel="next"], a[rel="prev"]`).MatchAll(doc) {
			u, err := url.Parse(attr(a, "href"))
			if err != nil {
				t.Fatalf("%s: page link %q: %v", path, attr(a, "href"), err)
			}
			for k, want := range map[string]string{"q": typed, "gender": gender, "age": age, "origin": strings.ToLower(origin), "seeking": seeking} {
				if got := u.Query().Get(k); got != want {
					t.Fatalf("%s: page link %q has %s=%q, want %q", path, u, k, got, want)
				}
			}
		}
	})
}

// vocabulary adds to set every element name and attribute name (as
// "<name>" and "name=") in a page.
func vocabulary(n *html.Node, set map[string]bool) {
	if n.Type == html.ElementNode {
		set["<"+n.Data+">"] = true
		for _, a := range n.Attr {
			set[a.Key+"="] = true
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		vocabulary(c, set)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
