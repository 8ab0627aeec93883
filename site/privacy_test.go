package site_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// TestTraceTheFaceNeverNamesThePublisher is the promise Trace the Face
// rests on: nothing a visitor can reach about a photo names the Society
// that published it, its country, its website or the internal case
// reference, because the publisher tells where the person lives.
//
// The same photo (reference, facts, picture) is published on two sites,
// once by the German Red Cross and once by the French Red Cross. The test
// walks every route the router has, in every language, with the queries and
// forms a visitor would send about the photo (the information form sent,
// refused and confirmed included), on both sites, and counts each
// publisher's names, website, country names, code and case reference in
// every body, header and cookie. A page may name Germany or its Society for
// its own reasons (the country index, the sitemap): then it does so on both
// sites alike. Any answer that names a publisher more often on the site
// where it published the photo tells who did. A route with a parameter the
// walk cannot fill fails the test, so a new route is walked without
// editing it.
func TestTraceTheFaceNeverNamesThePublisher(t *testing.T) {
	publishers := []struct{ society, domain string }{{"de", "drk"}, {"fr", "croix-rouge"}}
	var counts []map[string]map[string]int
	var secrets [][]string
	for _, p := range publishers {
		c, s := walkAbout(t, p.society, p.domain, publishers[0].society, publishers[1].society)
		counts, secrets = append(counts, c), append(secrets, s)
	}
	for i := range publishers {
		mine, other := counts[i], counts[1-i]
		for what, n := range mine {
			for _, s := range secrets[i] {
				if n[s] > other[what][s] {
					t.Errorf("%s shows %q %d times when %s published the photo, %d times when %s did: it says who published it",
						what, s, n[s], publishers[i].society, other[what][s], publishers[1-i].society)
				}
			}
		}
		if len(mine) < 1000 {
			t.Errorf("only %d answers walked", len(mine))
		}
	}
}

// walkAbout publishes the photo TTF-7Q4K2 for society on a fresh site and
// walks everything a visitor can reach about it. It returns, for each
// request, how often each publisher's secrets appear in the answer, and the
// secrets of society.
func walkAbout(t *testing.T, society, domain string, all ...string) (map[string]map[string]int, []string) {
	sc := sitetest.Search(t)
	e := sitetest.New(t, sc)
	ctx := context.Background()
	e.Account(t, "a@"+domain+".example", society, store.RoleCaseworker)
	e.Account(t, "b@"+domain+".example", society, store.RoleCaseworker)
	const ref = "TTF-7Q4K2"
	entry := e.PublishBy(t, society, domain, ref, "female", "af", "mother", "brother")
	x := &gallery.Indexer{Store: e.Store, Search: sc, Catalog: e.Catalog}
	w := &store.Worker{Store: e.Store, Handlers: x.Handlers(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	var langs []string
	for _, l := range e.Catalog.Languages() {
		langs = append(langs, l.Code)
	}
	// What would tell a publisher: its names, website, country (the photo's
	// country of origin, Afghanistan, may show), its code where it would
	// stand for the publisher, its staff's domain and the case reference.
	secretsOf := func(code, domain string) []string {
		c, ok := e.Data.Country(code)
		if !ok || c.Society == nil {
			t.Fatalf("no Society for %s in the content", code)
		}
		s := []string{strings.ToUpper(domain) + "-CASE-SECRET", domain + ".example", "/countries/" + code, "country=" + code,
			`value="` + code + `" selected`, `"society":"` + code + `"`, `"inbox":"` + code + `"`}
		for _, v := range []string{c.Society.NameEN, c.Society.NameLocal, host(c.Society.Website)} {
			if v != "" {
				s = append(s, v)
			}
		}
		for _, l := range langs {
			s = append(s, e.Catalog.Translator(l).Country(code))
		}
		return s
	}
	var every []string
	for i, code := range all {
		every = append(every, secretsOf(code, []string{"drk", "croix-rouge"}[i])...)
	}

	b := e.Browser(t)
	static := regexp.MustCompile(`/static/[^"?#]+`).FindString(b.Get("/en/").Body)
	if static == "" {
		t.Fatal("no /static/ asset on the home page")
	}
	// Each route parameter, and the values a visitor would put there when
	// looking at this photo.
	params := map[string][]string{
		"lang":    langs,
		"ref":     {ref},
		"file":    {"320.jpg", "640.jpg", "1280.jpg"},
		"width":   {"320", "640", "1280"},
		"iso2":    {"af"}, // the photo's country of origin, which it shows anyway
		"code":    {"af"},
		"society": {"af", "de"}, // back-office card pages: a visitor is sent to the login
		"*1":      {strings.TrimPrefix(static, "/static/")},
		"id":      {strconv.FormatInt(entry.ID, 10)},
		"token":   {"no-such-invitation"}, // back-office invitations: a stranger's link opens nothing
	}
	queries := []string{"", "?q=" + ref, "?q=mother", "?origin=af&seeking=mother&gender=female", "?about=" + ref, "?country=af", "?page=1"}
	routes := e.App.GetRoutes(true)

	counts := map[string]map[string]int{}
	check := func(what string, p sitetest.Page) {
		t.Helper()
		var all strings.Builder
		all.WriteString(p.Body)
		for k, vs := range p.Header {
			all.WriteString("\n" + k + ": " + strings.Join(vs, ", "))
		}
		text := strings.ToLower(all.String())
		n := map[string]int{}
		for _, s := range every {
			n[s] = strings.Count(text, strings.ToLower(s))
		}
		counts[what] = n
		if p.Status >= 500 {
			t.Errorf("%s: %d", what, p.Status)
		}
	}
	walk := func(round string) {
		for _, r := range routes {
			if r.Method != fiber.MethodGet && r.Method != fiber.MethodHead {
				continue
			}
			for _, path := range fill(t, r, params) {
				for _, q := range queries {
					check(round+" "+r.Method+" "+path+q, b.Do(r.Method, path+q, nil))
				}
			}
		}
	}
	walk("before the information is sent:")

	// The information form: refused (no consent) in every language, so it
	// comes back with errors; then sent, and its confirmation read.
	info := func(lang string, consent bool) url.Values {
		// The per-address limit on the contact form is tested elsewhere.
		if _, err := e.Store.Pool().Exec(ctx, `DELETE FROM rate_limits`); err != nil {
			t.Fatal(err)
		}
		v := url.Values{"_csrf": {sitetest.CSRF(t, b.Get("/"+lang+"/trace-the-face/"+ref))}, "about": {ref},
			"message": {"I saw her at the market."}, "name": {"Gul"}, "phone": {"+93 70 123 4567"}, "residence": {"af"}, "lang": {lang}}
		if consent {
			v.Set("consent", "yes")
		}
		return v
	}
	sent := 0
	for _, r := range routes {
		if r.Method != fiber.MethodPost {
			continue
		}
		for _, path := range fill(t, r, params) {
			lang := langOf(path, langs)
			check("POST "+path+" refused", b.Do("POST", path, info(lang, false)))
			if !strings.HasSuffix(path, "/contact") || (lang != "en" && lang != "ar" && lang != "ti") {
				continue
			}
			res := b.Do("POST", path, info(lang, true))
			check("POST "+path+" sent", res)
			if res.Status != http.StatusSeeOther {
				t.Fatalf("information in %s: %d", lang, res.Status)
			}
			sent++
			check("the confirmation in "+lang, b.Get(res.Header.Get("Location")))
		}
	}
	if sent != 3 {
		t.Fatalf("the information form was sent %d times, want 3: is its route gone?", sent)
	}
	// With the confirmation cookie set, every page again.
	walk("after the information is sent:")

	// The information did reach the publisher: the walk was about a photo
	// whose information is routed, not about nothing.
	list, err := e.Store.Enquiries(ctx, store.EnquiryFilter{})
	if err != nil || len(list) != 3 || list[0].Inbox != society {
		t.Fatalf("enquiries: %v %+v", err, list)
	}
	return counts, secretsOf(society, domain)
}

// fill gives every path a route stands for, each parameter taken from
// params; a parameter not there fails the test.
func fill(t *testing.T, r fiber.Route, params map[string][]string) []string {
	t.Helper()
	paths := []string{r.Path}
	for _, name := range r.Params {
		vals, ok := params[name]
		if !ok {
			t.Fatalf("route %s %s has a parameter %q that the privacy walk cannot fill: add its values to the test", r.Method, r.Path, name)
		}
		marker := ":" + name
		if strings.HasPrefix(name, "*") {
			marker = "*"
		}
		var next []string
		for _, p := range paths {
			for _, v := range vals {
				next = append(next, strings.Replace(p, marker, v, 1))
			}
		}
		paths = next
	}
	return paths
}

func langOf(path string, langs []string) string {
	for _, l := range langs {
		if strings.HasPrefix(path, "/"+l+"/") {
			return l
		}
	}
	return "en"
}

func host(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(p.Hostname(), "www.")
}
