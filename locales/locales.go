// Package locales holds the site's ten languages, their go-i18n message
// catalogues, language negotiation and localized country names.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

//go:embed active.*.toml staff.*.toml region_overrides.json dates.json
var files embed.FS

// Language is one UI language of the site.
type Language struct {
	// Code is the language's segment in URLs: /{Code}/….
	Code string
	// Tag is the BCP 47 tag used for messages, CLDR data, hreflang and <html lang>.
	Tag language.Tag
	// RTL is true for right-to-left scripts.
	RTL bool
	// Name is the language's name in itself, for the language switcher.
	Name string
	// Draft is true while no native speaker has reviewed the language, as
	// the review table in locales/README.md says: its pages say so.
	Draft bool
}

// HrefLang is the value for hreflang and the lang attribute.
func (l Language) HrefLang() string { return l.Tag.String() }

// Dir is the value for the dir attribute.
func (l Language) Dir() string {
	if l.RTL {
		return "rtl"
	}
	return "ltr"
}

// Languages returns the site's languages; English, the fallback, comes first.
// Dari uses the URL code "prs" and the tag fa-AF, as the spec suggests.
func Languages() []Language {
	mk := func(code, tag string, rtl bool) Language {
		t := language.MustParse(tag)
		return Language{Code: code, Tag: t, RTL: rtl, Name: display.Self.Name(t)}
	}
	return []Language{
		mk("en", "en", false),
		mk("fr", "fr", false),
		mk("es", "es", false),
		mk("ar", "ar", true),
		mk("prs", "fa-AF", true),
		mk("ps", "ps", true),
		mk("so", "so", false),
		mk("ru", "ru", false),
		mk("uk", "uk", false),
		mk("ti", "ti", false),
	}
}

// Catalog is the loaded, read-only set of languages and messages.
type Catalog struct {
	langs       []Language
	byCode      map[string]int
	bundle      *i18n.Bundle
	matcher     language.Matcher
	translators []*Translator
	messageIDs  []string
	raw         map[string]map[string]any // language code → decoded TOML
	regions     *regionNames
	log         *slog.Logger
	// The back office's languages and catalogues (staff.{tag}.toml), in
	// the same bundle.
	staffLangs   []Language
	staffRaw     map[string]map[string]any
	staffMatcher language.Matcher
}

// Load builds the catalog from the embedded message files. It fails only
// when a file cannot be parsed; gaps are reported by Check.
func Load(log *slog.Logger) (*Catalog, error) {
	if log == nil {
		log = slog.Default()
	}
	c := &Catalog{
		langs:  Languages(),
		byCode: map[string]int{},
		bundle: i18n.NewBundle(language.English),
		raw:    map[string]map[string]any{},
		log:    log,
	}
	c.bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	draft, err := drafts(readme, c.langs)
	if err != nil {
		return nil, err
	}
	for i := range c.langs {
		c.langs[i].Draft = draft[c.langs[i].Code]
	}
	tags := make([]language.Tag, len(c.langs))
	for i, l := range c.langs {
		c.byCode[l.Code] = i
		tags[i] = l.Tag
		name := "active." + l.Tag.String() + ".toml"
		b, err := fs.ReadFile(files, name)
		if err != nil {
			if l.Code == "en" {
				return nil, fmt.Errorf("locales: %w", err)
			}
			log.Warn("locales: message file missing", "lang", l.Code, "file", name)
			continue
		}
		if _, err := c.bundle.ParseMessageFileBytes(b, name); err != nil {
			return nil, fmt.Errorf("locales: %s: %w", name, err)
		}
		var m map[string]any
		if err := toml.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("locales: %s: %w", name, err)
		}
		c.raw[l.Code] = m
	}
	for id := range c.raw["en"] {
		c.messageIDs = append(c.messageIDs, id)
	}
	if err := c.loadStaff(); err != nil {
		return nil, err
	}
	c.matcher = language.NewMatcher(tags)
	regions, err := loadRegionNames(c.langs)
	if err != nil {
		return nil, err
	}
	c.regions = regions
	dates, err := loadDateFormats(c.langs)
	if err != nil {
		return nil, err
	}
	for _, l := range c.langs {
		// Without its own file a language falls back to English, never to
		// the nearest loaded language (go-i18n would serve Russian to a
		// Ukrainian reader).
		tag := "en"
		if _, ok := c.raw[l.Code]; ok {
			tag = l.Tag.String()
		}
		c.translators = append(c.translators, &Translator{
			lang:    l,
			loc:     i18n.NewLocalizer(c.bundle, tag),
			regions: regions,
			date:    dates[l.Code],
			log:     log,
		})
	}
	return c, nil
}

// Languages returns the catalog's languages, English first.
func (c *Catalog) Languages() []Language { return append([]Language(nil), c.langs...) }

// Lookup finds a language by its URL code.
func (c *Catalog) Lookup(code string) (Language, bool) {
	i, ok := c.byCode[code]
	if !ok {
		return Language{}, false
	}
	return c.langs[i], true
}

// Default returns English, the language of last resort.
func (c *Catalog) Default() Language { return c.langs[0] }

// Negotiate picks the language for a visitor: the language cookie (a URL
// code the visitor chose) first, then the Accept-Language header, then
// English.
func (c *Catalog) Negotiate(cookie, acceptLanguage string) Language {
	if l, ok := c.Lookup(cookie); ok {
		return l
	}
	if strings.TrimSpace(acceptLanguage) == "" {
		return c.Default()
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return c.Default()
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.Default()
	}
	return c.langs[i]
}

// Translator returns the translator for a language code, or English's.
func (c *Catalog) Translator(code string) *Translator {
	if i, ok := c.byCode[code]; ok {
		return c.translators[i]
	}
	return c.translators[0]
}

// Translator localizes messages and country names for one language. It is
// safe for concurrent use: it only reads the catalog.
type Translator struct {
	lang    Language
	loc     *i18n.Localizer
	regions *regionNames
	date    dateFormat
	log     *slog.Logger
}

// Language returns the translator's language.
func (t *Translator) Language() Language { return t.lang }

// T localizes a message. Optional arguments are template-data pairs:
// T("CountryTitle", "Country", name). A missing translation falls back to
// English and is logged; Catalog.Check makes the tests fail on it.
func (t *Translator) T(id string, pairs ...any) string {
	return t.localize(id, nil, pairs)
}

// N localizes a plural message for count n; the count is also available to
// the message as {{.Count}}.
func (t *Translator) N(id string, n int, pairs ...any) string {
	return t.localize(id, n, append([]any{"Count", n}, pairs...))
}

func (t *Translator) localize(id string, count any, pairs []any) string {
	var data map[string]any
	if len(pairs) > 0 {
		data = make(map[string]any, len(pairs)/2)
		for i := 0; i+1 < len(pairs); i += 2 {
			k, _ := pairs[i].(string)
			data[k] = pairs[i+1]
		}
	}
	s, err := t.loc.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data, PluralCount: count})
	if err != nil {
		t.log.Warn("locales: translation missing", "lang", t.lang.Code, "id", id, "err", err)
		if s == "" {
			return id
		}
	}
	return s
}

// Country returns the name of a country, by lower- or upper-case ISO
// 3166-1 alpha-2 code, in the translator's language.
func (t *Translator) Country(iso2 string) string { return t.regions.name(t.lang.Code, iso2) }

// Date writes a calendar date in the language, by CLDR's long format:
// "9 May 2023" → "9 مايو 2023", "۹ می ۲۰۲۳".
func (t *Translator) Date(d time.Time) string { return t.date.format(d) }

// Weekday names a day of the week in the language, as a heading or a table
// row does (CLDR stand-alone, wide): "Monday", "الاثنين".
func (t *Translator) Weekday(d time.Weekday) string { return t.date.Days[d] }

// Clock writes a time of day, "HH:MM" (24-hour), as the language does
// (CLDR short time): "14:30" → "2:30 PM", "14:30", "۱۴:۳۰". Anything else
// is returned as it is.
func (t *Translator) Clock(hhmm string) string {
	c, err := time.Parse("15:04", hhmm)
	if err != nil {
		return hhmm
	}
	return t.date.clock(c)
}

// DateString is Date for a YYYY-MM-DD string; anything else is returned
// as it is.
func (t *Translator) DateString(s string) string {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Date(d)
}
