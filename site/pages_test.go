package site_test

import (
	"github.com/familylinks/familylinks/site/web"
	"html/template"
	"net/http"
	"strings"
	"testing"
)

// publicPaths are the pages of one language, after /{lang}.
func publicPaths(e *env) []string {
	paths := []string{"/", "/countries", "/contact", "/trace-the-face", "/how-we-work", "/privacy", "/faq"}
	for _, c := range e.data.Countries {
		paths = append(paths, "/countries/"+c.ISO2)
	}
	return paths
}

// TestEveryPageInEveryLanguage renders every public page in every language
// and checks what every page must have: parseable HTML, <html lang dir>, the
// language switcher on the same page, hreflang alternates and a canonical
// link, no missing translation, and nothing loaded from another site.
func TestEveryPageInEveryLanguage(t *testing.T) {
	e := newEnv(t)
	langs := e.catalog.Languages()
	for _, l := range langs {
		for _, p := range publicPaths(e) {
			if p == "/trace-the-face" {
				continue // needs the database: site/gallery tests it in every respect
			}
			url := "/" + l.Code + p
			res := e.get(t, url)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", url, res.StatusCode)
				continue
			}
			doc := parse(t, res.body)
			h := one(t, doc, "html")
			if got := attr(h, "lang"); got != l.HrefLang() {
				t.Errorf("%s: lang=%q, want %q", url, got, l.HrefLang())
			}
			if got := attr(h, "dir"); got != l.Dir() {
				t.Errorf("%s: dir=%q, want %q", url, got, l.Dir())
			}
			if strings.TrimSpace(text(one(t, doc, "title"))) == "" || len(all(doc, "h1")) != 1 {
				t.Errorf("%s: want a title and exactly one h1", url)
			}
			if got := attr(one(t, doc, `link[rel=canonical]`), "href"); got != baseURL+url {
				t.Errorf("%s: canonical %q", url, got)
			}
			alts := map[string]string{}
			for _, a := range all(doc, `link[rel=alternate][hreflang]`) {
				alts[attr(a, "hreflang")] = attr(a, "href")
			}
			if len(alts) != len(langs)+1 || alts["x-default"] != baseURL+"/en"+p {
				t.Errorf("%s: hreflang alternates %v", url, alts)
			}
			for _, o := range langs {
				if alts[o.HrefLang()] != baseURL+"/"+o.Code+p {
					t.Errorf("%s: hreflang %s = %q", url, o.HrefLang(), alts[o.HrefLang()])
				}
			}
			sw := all(doc, `nav.langs a`)
			if len(sw) != len(langs) {
				t.Errorf("%s: switcher has %d links", url, len(sw))
			}
			for _, a := range sw {
				if href := attr(a, "href"); !strings.HasSuffix(strings.TrimSuffix(href, "?switch=1"), p) {
					t.Errorf("%s: switcher link %q leaves the page", url, href)
				}
			}
			if cur := all(doc, `nav.langs a[aria-current]`); len(cur) != 1 || attr(cur[0], "hreflang") != l.HrefLang() {
				t.Errorf("%s: the current language must be marked once", url)
			}
			// JSON-LD is a data block: the browser never runs it.
			if n := len(all(doc, `script:not([type="application/ld+json"]), iframe, object, embed`)); n > 0 {
				t.Errorf("%s: %d script or embedded elements; pages must work without JavaScript", url, n)
			}
			for _, n := range all(doc, "link[rel=stylesheet], link[rel=icon], img, source") {
				src := attr(n, "href") + attr(n, "src")
				if !strings.HasPrefix(src, "/") || strings.HasPrefix(src, "//") {
					t.Errorf("%s: resource %q is not from this site", url, src)
				}
			}
		}
		for _, m := range e.logs.Take() {
			t.Errorf("%s: %s", l.Code, m)
		}
	}
}

func TestHomeChoosesCountry(t *testing.T) {
	e := newEnv(t)
	doc := parse(t, e.get(t, "/ar/").body)
	form := one(t, doc, "main form")
	if attr(form, "method") != "get" || attr(form, "action") != "/ar/countries" {
		t.Fatalf("the country chooser must be a GET form to /ar/countries")
	}
	if n := len(all(doc, "select#country option[value]:not([value=''])")); n != len(e.data.Countries) {
		t.Errorf("chooser offers %d countries, want %d", n, len(e.data.Countries))
	}
	if one(t, doc, `label[for=country]`) == nil {
		t.Error("the select needs a label")
	}
	res := e.get(t, "/ar/countries?country=de")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/ar/countries/de" {
		t.Fatalf("choosing Germany: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if res := e.get(t, "/ar/countries?country=zz"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown country: %d, want 404", res.StatusCode)
	}
}

func TestCountriesSortedForLanguage(t *testing.T) {
	e := newEnv(t)
	doc := parse(t, e.get(t, "/fr/").body)
	pos := map[string]int{}
	for i, o := range all(doc, "select#country option") {
		pos[text(o)] = i
	}
	// Byte order would put "États-Unis" after "Zimbabwe"; French order puts
	// it among the E's.
	if !(pos["Estonie"] < pos["États-Unis"] && pos["États-Unis"] < pos["Finlande"]) {
		t.Errorf("French order wrong: Estonie %d, États-Unis %d, Finlande %d", pos["Estonie"], pos["États-Unis"], pos["Finlande"])
	}
}

func TestCountriesIndexAndFilter(t *testing.T) {
	e := newEnv(t)
	doc := parse(t, e.get(t, "/en/countries").body)
	if n := len(all(doc, "section.region")); n != 5 {
		t.Errorf("want 5 regions, got %d", n)
	}
	if n := len(all(doc, "ul.countries a")); n != len(e.data.Countries) {
		t.Errorf("index lists %d countries, want %d", n, len(e.data.Countries))
	}
	tests := []struct {
		url  string
		want []string // country page links expected, in any order
	}{
		{"/en/countries?q=afgh", []string{"/en/countries/af"}},
		{"/en/countries?q=AFGHAN", []string{"/en/countries/af"}},
		{"/fr/countries?q=etats-unis", []string{"/fr/countries/us", "/fr/countries/vi"}}, // and the US Virgin Islands
		{"/ar/countries?q=" + "%D8%A3%D9%81%D8%BA%D8%A7%D9%86%D8%B3%D8%AA%D8%A7%D9%86", []string{"/ar/countries/af"}},
		{"/en/countries?q=German+Red+Cross", []string{"/en/countries/de"}},
		{"/en/countries?q=zzzz", nil},
	}
	for _, tt := range tests {
		res := e.get(t, tt.url)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", tt.url, res.StatusCode)
			continue
		}
		doc := parse(t, res.body)
		var got []string
		for _, a := range all(doc, "ul.countries a") {
			got = append(got, attr(a, "href"))
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("%s: got %v, want %v", tt.url, got, tt.want)
		}
		if attr(one(t, doc, "input#q"), "value") == "" {
			t.Errorf("%s: the filter must keep what was typed", tt.url)
		}
		if one(t, doc, `meta[name=robots]`) == nil {
			t.Errorf("%s: filtered lists must not be indexed", tt.url)
		}
	}
}

func TestFilterBadInput(t *testing.T) {
	e := newEnv(t)
	res := e.get(t, "/en/countries?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
	if res.StatusCode != http.StatusOK || strings.Contains(string(res.body), "<script>") {
		t.Errorf("markup in the filter must come back escaped: %d", res.StatusCode)
	}
	for _, url := range []string{
		"/ar/countries?q=%FF%FE",                      // not UTF-8
		"/ar/countries?q=" + strings.Repeat("a", 101), // too long
		"/ar/countries?q=a%00b",                       // control character
	} {
		res := e.get(t, url)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", url[:min(len(url), 40)], res.StatusCode)
			continue
		}
		doc := parse(t, res.body)
		if attr(one(t, doc, "html"), "lang") != "ar" || attr(one(t, doc, "html"), "dir") != "rtl" {
			t.Errorf("the 400 page must be in the page's language")
		}
		if got, want := text(one(t, doc, "h1")), e.catalog.Translator("ar").T("ErrorBadRequestTitle"); got != want {
			t.Errorf("400 title %q, want %q", got, want)
		}
	}
}

func TestCountryPage(t *testing.T) {
	e := newEnv(t)
	dari := e.catalog.Translator("prs")
	doc := parse(t, e.get(t, "/prs/countries/af").body)
	if got, want := text(one(t, doc, "h1")), dari.T("CountryTitle", "Country", web.Isolate("افغانستان")); got != want {
		t.Errorf("h1 %q, want %q", got, want)
	}
	if got := text(one(t, doc, ".society .org")); got != "Afghan Red Crescent" {
		t.Errorf("Society %q", got)
	}
	af, _ := e.data.Country("af")
	if af.Society.Website != "" {
		if got := attr(one(t, doc, ".society a.button"), "href"); got != af.Society.Website {
			t.Errorf("website link %q, want %q", got, af.Society.Website)
		}
	}
	if n := len(all(doc, "ul.services li")); n != 8 {
		t.Errorf("unknown services: want the network's 8 services listed, got %d", n)
	}
	if !strings.Contains(string(e.get(t, "/prs/countries/af").body), dari.T("CountryServicesUnknown", "Society", web.Isolate("Afghan Red Crescent"), "Country", web.Isolate("افغانستان"))) {
		t.Error("a Society whose services are unknown must say so")
	}
	if len(all(doc, ".contact")) != 0 {
		t.Error("no contact channel is sourced for Afghanistan: none may be shown")
	}
	if len(all(doc, ".source a")) == 0 {
		t.Error("the page must name its sources")
	}

	// A country without a National Society names the ICRC delegation a
	// source names, or else leads to the ICRC's own list.
	doc = parse(t, e.get(t, "/en/countries/om").body)
	if len(all(doc, ".society .org")) != 0 {
		t.Error("Oman has no National Society")
	}
	if attr(one(t, doc, `a[href="https://www.icrc.org/en/where-we-work/gulf-cooperation-council-gcc-countries"]`), "href") == "" {
		t.Error("Oman's page must name the ICRC in the GCC countries")
	}
	doc = parse(t, e.get(t, "/en/countries/va").body)
	if attr(one(t, doc, `a[href="https://www.icrc.org/en/where-we-work"]`), "href") == "" {
		t.Error("the Holy See's page must lead to the ICRC")
	}

	res := e.get(t, "/en/countries/AF")
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/en/countries/af" {
		t.Errorf("upper-case code: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestConsentSaidBothWays: how we work and the FAQ say, in every language,
// both halves of the consent rule: the enquirer's words reach the person
// sought only with the enquirer's consent, and where that person is reaches
// the enquirer only with theirs.
func TestConsentSaidBothWays(t *testing.T) {
	e := newEnv(t)
	for _, l := range e.catalog.Languages() {
		tr := e.catalog.Translator(l.Code)
		for _, page := range []string{"/how-we-work", "/faq"} {
			body := text(parse(t, e.get(t, "/"+l.Code+page).body))
			for _, id := range []string{"ConsentEnquirer", "ConsentSought"} {
				if !strings.Contains(body, strings.Join(strings.Fields(tr.T(id)), " ")) {
					t.Errorf("%s%s does not say %s", l.Code, page, id)
				}
			}
		}
	}
}

// TestRequiredSelectsHavePlaceholder: HTML requires a required single
// select to start with an empty placeholder option (the Nu HTML Checker
// reported the contact form's language list); a select that always has a
// value chosen is not required.
func TestRequiredSelectsHavePlaceholder(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/en/contact", "/ar/contact?country=de"} {
		doc := parse(t, e.get(t, path).body)
		sels := all(doc, "select[required]")
		if len(sels) == 0 {
			t.Fatalf("%s: no required select", path)
		}
		for _, s := range sels {
			first := firstMatch(s, "option")
			if first == nil || attr(first, "value") != "" {
				t.Errorf("%s: select#%s is required but its first option is not an empty placeholder", path, attr(s, "id"))
			}
		}
	}
}

// TestMetaDescription: every public page has a meta description in its
// own language (search engines show it to people searching in Dari or
// Tigrinya), and the country page's names its country.
func TestMetaDescription(t *testing.T) {
	e := newEnv(t)
	for _, l := range e.catalog.Languages() {
		tr := e.catalog.Translator(l.Code)
		for _, path := range []string{"/", "/countries", "/countries/de", "/how-we-work", "/privacy", "/faq", "/contact", "/trace-the-face"} {
			res := e.get(t, "/"+l.Code+path)
			m := firstMatch(parse(t, res.body), `meta[name="description"]`)
			if m == nil || strings.TrimSpace(attr(m, "content")) == "" {
				t.Errorf("%s%s (%d): no meta description", l.Code, path, res.StatusCode)
				continue
			}
			if path == "/countries/de" && !strings.Contains(attr(m, "content"), tr.Country("de")) {
				t.Errorf("%s%s: the description does not name the country: %q", l.Code, path, attr(m, "content"))
			}
		}
	}
}

// TestDraftNotice: a page in a language no native speaker has reviewed
// says so in that language, with a link to the contact form; English does
// not.
func TestDraftNotice(t *testing.T) {
	e := newEnv(t)
	for _, l := range e.catalog.Languages() {
		tr := e.catalog.Translator(l.Code)
		for _, path := range []string{"/", "/countries/de", "/contact"} {
			doc := parse(t, e.get(t, "/"+l.Code+path).body)
			p := firstMatch(doc, "footer p.draft")
			switch {
			case !l.Draft && p != nil:
				t.Errorf("%s%s: a reviewed language says it is a draft", l.Code, path)
			case l.Draft && (p == nil || !strings.Contains(text(p), tr.T("DraftNotice"))):
				t.Errorf("%s%s: no draft notice in the language's own words", l.Code, path)
			case l.Draft && attr(firstMatch(p, "a"), "href") != "/"+l.Code+"/contact":
				t.Errorf("%s%s: the draft notice does not link to the contact form", l.Code, path)
			}
		}
	}
}

// TestScamNoticeWhereContactStarts: the home page, country pages (with and
// without a Society, a territory, Nicaragua) and the contact form tell the
// reader, in their language, that the service is free and nobody may ask
// for money. The confirmation is held to it in site/contact.
func TestScamNoticeWhereContactStarts(t *testing.T) {
	e := newEnv(t)
	for _, l := range e.catalog.Languages() {
		tr := e.catalog.Translator(l.Code)
		notice := template.HTMLEscapeString(tr.T("ScamNotice"))
		for _, path := range []string{"/", "/countries/de", "/countries/om", "/countries/pr", "/countries/ni", "/contact", "/contact?country=xk"} {
			res := e.get(t, "/"+l.Code+path)
			if res.StatusCode != http.StatusOK || strings.Count(string(res.body), notice) != 1 {
				t.Errorf("%s%s (%d): the anti-scam notice must appear once", l.Code, path, res.StatusCode)
			}
		}
	}
}
