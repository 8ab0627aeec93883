// Package web is the shared HTTP kit of the site: page data, rendering, the
// in-memory page cache, language selection, security headers and the one
// place that turns errors into pages.
package web

import (
	"log/slog"
	"strconv"
	"strings"

	"github.com/familylinks/familylinks/locales"
	"github.com/gofiber/fiber/v2"
)

// Kit holds what every feature's handlers share. It is built once by
// site.New and only read afterwards.
type Kit struct {
	Catalog *locales.Catalog
	// BaseURL is the public origin, without a trailing slash; canonical
	// links, hreflang alternates and the sitemap are absolute URLs on it.
	BaseURL string
	// SecureCookies is true when the site is served over HTTPS.
	SecureCookies bool
	Views         *Views
	Pages         *Cache
	Assets        Assets
	Log           *slog.Logger
	// Countries are the countries the site covers, sorted per language.
	Countries *CountryNames
}

// Alternate is one hreflang alternate of a page.
type Alternate struct {
	HrefLang string
	URL      string
}

// LangLink is one entry of the language switcher.
type LangLink struct {
	Code, Name, HrefLang, Dir, URL string
	Current                        bool
}

// Base is embedded in every page's data: the language, the translator bound
// to it, and what the layout needs.
type Base struct {
	Lang       locales.Language
	Tr         *locales.Translator
	Title      string
	Path       string // the page's path after /{lang}, starting with "/"
	Canonical  string
	Alternates []Alternate
	Switcher   []LangLink
	Assets     Assets
	NoIndex    bool
	// Description is the page's meta description, in its language: what
	// a search engine shows under the link, for people who search in
	// their own language.
	Description string
}

func (b *Base) base() *Base { return b }

// chromeKey identifies the layout rendered for b: every field the layout
// may read is in it (TestChromeKeyCoversBase), Tr being Lang's translator.
func (b *Base) chromeKey() string {
	var k strings.Builder
	add := func(vs ...string) {
		for _, v := range vs {
			k.WriteString(v)
			k.WriteByte(0)
		}
	}
	add(b.Lang.Code, b.Lang.Tag.String(), strconv.FormatBool(b.Lang.RTL), b.Lang.Name, strconv.FormatBool(b.Lang.Draft), b.Title, b.Path, b.Canonical, strconv.FormatBool(b.NoIndex), b.Description, b.Assets.CSS, b.Assets.Icon, b.Assets.StaffCSS, string(b.Assets.Style))
	for _, a := range b.Alternates {
		add("a", a.HrefLang, a.URL)
	}
	for _, l := range b.Switcher {
		add("s", l.Code, l.Name, l.HrefLang, l.Dir, l.URL, strconv.FormatBool(l.Current))
	}
	return k.String()
}

// T localizes a message for the page's language. Every text value put into
// the sentence (a Society's or country's name, a date, a reference) is
// isolated with FSI…PDI, the plain-text form of <bdi>: a Latin name in an
// Arabic sentence, or an Arabic one in an English sentence, keeps its own
// direction and leaves the sentence's order alone.
func (b Base) T(id string, pairs ...any) string {
	pairs = append([]any(nil), pairs...) // never write to the caller's slice
	for i := 1; i < len(pairs); i += 2 {
		if s, ok := pairs[i].(string); ok && s != "" && !strings.HasPrefix(s, "\u2068") {
			pairs[i] = Isolate(s)
		}
	}
	return b.Tr.T(id, pairs...)
}

// InSentence is an organisation's name as an English sentence uses it,
// with the definite article ("Send a request to the American Red Cross");
// other languages take the name as the IFRC writes it.
func InSentence(lang, name string) string {
	if lang == "en" && !strings.HasPrefix(strings.ToLower(name), "the ") {
		return "the " + name
	}
	return name
}

// Isolate wraps text in FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE.
func Isolate(s string) string { return "\u2068" + s + "\u2069" }

// N localizes a plural message for the page's language.
func (b Base) N(id string, n int, pairs ...any) string { return b.Tr.N(id, n, pairs...) }

// Country names a country in the page's language.
func (b Base) Country(iso2 string) string { return b.Tr.Country(iso2) }

// Home is the page language's home page path.
func (b Base) Home() string { return "/" + b.Lang.Code + "/" }

// URL is a path in the page's language.
func (b Base) URL(path string) string { return "/" + b.Lang.Code + path }

// Base builds the page data shared by all pages for a language and the
// language-neutral path (for example "/countries/af"); title is already
// localized.
func (k *Kit) Base(lang locales.Language, path, title string) Base {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	b := Base{
		Lang:   lang,
		Tr:     k.Catalog.Translator(lang.Code),
		Title:  title,
		Path:   path,
		Assets: k.Assets,
	}
	b.Canonical = k.BaseURL + "/" + lang.Code + path
	b.Description = description(b.Tr, path)
	for _, l := range k.Catalog.Languages() {
		b.Alternates = append(b.Alternates, Alternate{HrefLang: l.HrefLang(), URL: k.BaseURL + "/" + l.Code + path})
		b.Switcher = append(b.Switcher, LangLink{
			Code: l.Code, Name: l.Name, HrefLang: l.HrefLang(), Dir: l.Dir(),
			URL:     "/" + l.Code + path + "?switch=1",
			Current: l.Code == lang.Code,
		})
	}
	b.Alternates = append(b.Alternates, Alternate{HrefLang: "x-default", URL: k.BaseURL + "/en" + path})
	return b
}

// description is the meta description of the public page at path (after
// /{lang}), from the page's own lead sentence.
func description(tr *locales.Translator, path string) string {
	switch {
	case path == "/countries":
		return tr.T("CountriesLead") + " " + tr.T("HomeLead")
	case strings.HasPrefix(path, "/countries/"):
		return tr.T("CountryLead", "Country", tr.Country(strings.TrimPrefix(path, "/countries/")))
	case path == "/how-we-work":
		return tr.T("HowLead")
	case path == "/privacy":
		return tr.T("PrivacyLead")
	case strings.HasPrefix(path, "/contact"):
		return tr.T("ContactLead")
	case strings.HasPrefix(path, "/trace-the-face"):
		return tr.T("GalleryLead")
	}
	return tr.T("HomeLead")
}

const (
	langLocal  = "lang"
	langCookie = "lang"
)

// Lang returns the language the lang middleware put on the request.
func Lang(c *fiber.Ctx) locales.Language {
	l, _ := c.Locals(langLocal).(locales.Language)
	return l
}

// LangMiddleware validates the /{lang} segment. A language switch (the
// switcher's ?switch=1) is the only time the language cookie is written;
// it then redirects to the clean URL, so cached pages never carry cookies.
func (k *Kit) LangMiddleware(c *fiber.Ctx) error {
	l, ok := k.Catalog.Lookup(c.Params("lang"))
	if !ok {
		return NotFound()
	}
	c.Locals(langLocal, l)
	// Only a page view switches: a form posted to a URL that happens to
	// carry ?switch must reach its handler, with everything typed.
	if (c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead) && c.Request().URI().QueryArgs().Has("switch") {
		k.SetLangCookie(c, l.Code)
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Redirect(c.Path(), fiber.StatusSeeOther)
	}
	return c.Next()
}

// Negotiate picks a language for a request that carries none in its path.
func (k *Kit) Negotiate(c *fiber.Ctx) locales.Language {
	return k.Catalog.Negotiate(c.Cookies(langCookie), c.Get(fiber.HeaderAcceptLanguage))
}

// SetLangCookie remembers a language the visitor chose (a URL code), for a
// year. Call it only when they switch.
func (k *Kit) SetLangCookie(c *fiber.Ctx, code string) {
	c.Cookie(&fiber.Cookie{
		Name: langCookie, Value: code, Path: "/", MaxAge: 365 * 24 * 3600,
		Secure: k.SecureCookies, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// LangCookie is the language the visitor last chose, if any (a URL code,
// unchecked).
func LangCookie(c *fiber.Ctx) string { return c.Cookies(langCookie) }
