// Package countries serves the home page, the list of countries and one page
// per country: who to contact there and what they can do.
package countries

import (
	"context"
	"errors"
	"html/template"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// MaxQuery is the longest filter text accepted, in characters.
const MaxQuery = 100

// Handler serves the country pages.
type Handler struct {
	kit    *web.Kit
	data   *content.Data
	active *activeInboxes
	cards  *cards.Directory
	// lists holds, per language code, every country in the order of
	// kit.Countries, with what the filter searches.
	lists map[string][]Item
}

// Item is a country as the lists show it.
type Item struct {
	ISO2    string
	Name    string
	Society string
	Region  content.Region
	fold    string // searchable text: names folded by fold()
}

// New lists the countries for every language, in the kit's order. active
// lists the inboxes that receive requests now (nil without a database):
// the country page names who will receive a request sent from there. dir
// holds the Societies' published cards (nil: none are shown).
func New(kit *web.Kit, data *content.Data, active func(context.Context) (map[string]bool, error), dir *cards.Directory) *Handler {
	h := &Handler{kit: kit, data: data, lists: map[string][]Item{}, active: &activeInboxes{load: active, data: data}, cards: dir}
	for _, l := range kit.Catalog.Languages() {
		var items []Item
		for _, cn := range kit.Countries.Sorted(l.Code) {
			c, _ := data.Country(cn.ISO2)
			it := Item{ISO2: c.ISO2, Name: cn.Name, Region: c.Region}
			parts := []string{it.Name, c.NameEN, c.ISO2}
			if hc, ok := data.Helper(c); ok {
				it.Society = hc.Society.Name(l.Code)
				parts = append(parts, it.Society, hc.Society.NameEN, hc.Society.NameLocal)
			}
			it.fold = fold(strings.Join(parts, "\x00"))
			items = append(items, it)
		}
		h.lists[l.Code] = items
	}
	return h
}

// Register registers the routes under /{lang}.
func (h *Handler) Register(r fiber.Router) {
	r.Get("/", h.home)                // "Looking for a family member?" and the country chooser
	r.Get("/countries", h.index)      // every country by region; ?q= filters, ?country= jumps
	r.Get("/countries/:iso2", h.show) // one country: its Society, services, the ICRC
}

// HomePage is the data of the home page.
type HomePage struct {
	web.Base
	Countries []Item
}

func (h *Handler) home(c *fiber.Ctx) error {
	lang := web.Lang(c)
	return h.kit.Cached(c, "home:"+lang.Code, "pages/home", func() any {
		b := h.kit.Base(lang, "/", h.kit.Catalog.Translator(lang.Code).T("HomeTitle"))
		return HomePage{Base: b, Countries: h.lists[lang.Code]}
	})
}

// Group is the countries of one region.
type Group struct {
	ID        content.Region
	Name      string
	Countries []Item
}

// IndexPage is the data of the country list.
type IndexPage struct {
	web.Base
	Query    string
	Filtered bool
	Count    int
	Groups   []Group
}

func (h *Handler) index(c *fiber.Ctx) error {
	lang := web.Lang(c)
	if iso := c.Query("country"); iso != "" {
		cn, ok := h.data.Country(strings.ToLower(iso))
		if !ok {
			return web.NotFound()
		}
		return c.Redirect("/"+lang.Code+"/countries/"+cn.ISO2, fiber.StatusSeeOther)
	}
	q := strings.TrimSpace(c.Query("q"))
	if q == "" {
		return h.kit.Cached(c, "countries:"+lang.Code, "countries/index", func() any {
			return h.indexPage(lang.Code, "", h.lists[lang.Code])
		})
	}
	if err := checkQuery(q); err != nil {
		return web.BadRequest(err)
	}
	want := fold(q)
	var hits []Item
	for _, it := range h.lists[lang.Code] {
		if strings.Contains(it.fold, want) {
			hits = append(hits, it)
		}
	}
	page := h.indexPage(lang.Code, q, hits)
	page.Filtered, page.Count = true, len(hits)
	page.NoIndex = true
	return web.Render(c, h.kit.Views, "countries/index", page)
}

func (h *Handler) indexPage(code, q string, items []Item) IndexPage {
	lang, _ := h.kit.Catalog.Lookup(code)
	b := h.kit.Base(lang, "/countries", h.kit.Catalog.Translator(code).T("CountriesTitle"))
	page := IndexPage{Base: b, Query: q}
	for _, r := range content.Regions() {
		g := Group{ID: r, Name: b.T(regionMessage(r))}
		for _, it := range items {
			if it.Region == r {
				g.Countries = append(g.Countries, it)
			}
		}
		if len(g.Countries) > 0 {
			page.Groups = append(page.Groups, g)
		}
	}
	return page
}

func regionMessage(r content.Region) string {
	switch r {
	case content.Africa:
		return "RegionAfrica"
	case content.Americas:
		return "RegionAmericas"
	case content.AsiaPacific:
		return "RegionAsiaPacific"
	case content.Europe:
		return "RegionEurope"
	default:
		return "RegionMENA"
	}
}

// ShowPage is the data of a country page.
type ShowPage struct {
	web.Base
	ISO2 string
	Name string
	// Society is the country's own Society, possibly dissolved.
	Society *content.Society
	// SocietyName is its name in the page language where the IFRC gives
	// one, else in English; LocalName is its name in the country's main
	// language when that is different.
	SocietyName, LocalName, LocalLang string
	// SocietyRef and HelperRef name the Society inside a sentence: in
	// English with "the" ("Ask the Afghan Red Crescent…").
	SocietyRef, HelperRef string
	Dissolved             string // the dissolution date, in the page language
	// Helper is the member Society working in a place without its own.
	Helper     *content.Society
	HelperName string
	LocalOrg   *content.LocalOrg
	Delegation *content.Delegation
	// Website is the helping Society's website, if it has one.
	Website string
	// Recipient names who receives a request sent from this country now;
	// empty when that cannot be known (the database is out of reach).
	Recipient string
	// Card is the Society's own published card, when it has one.
	Card *CardView
	// JSONLD describes the Society and its card for machines (schema.org).
	JSONLD template.JS
	// Claims are the services a source says the Society offers.
	Claims []Claim
	// Services are the network's services, less those claimed.
	Services        []web.ServiceText
	Sources         []SourceView
	SourceTitles    string
	LastVerified    string
	ICRCWhereWeWork string
}

// Claim is what one source says a Society offers.
type Claim struct {
	Services []web.ServiceText
	Scope    string // localized, may be empty
	Source   string // who says so and when, briefly
}

// SourceView is a source as the page lists it.
type SourceView struct {
	Title, URL, Date string
}

// Host shows a website address without its scheme.
func (p *ShowPage) Host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.TrimPrefix(u.Host, "www.")
}

// ContactNoteKey is the note under the contact details: it points to "the
// website above" only when the page shows one.
func (p *ShowPage) ContactNoteKey() string {
	if p.Website != "" {
		return "CountryNoContactDetails"
	}
	return "CountryNoContactDetailsNoWebsite"
}

func (h *Handler) show(c *fiber.Ctx) error {
	lang := web.Lang(c)
	iso := c.Params("iso2")
	cn, ok := h.data.Country(iso)
	if !ok {
		if lower, found := h.data.Country(strings.ToLower(iso)); found {
			return c.Redirect("/"+lang.Code+"/countries/"+lower.ISO2, fiber.StatusMovedPermanently)
		}
		return web.NotFound()
	}
	inbox, _ := h.active.inbox(c.UserContext(), cn.ISO2)
	key := "country:" + lang.Code + ":" + cn.ISO2 + ":" + inbox
	now := time.Now()
	card, hasCard := h.cards.Get(c.UserContext(), cn.ISO2)
	if hasCard = hasCard && cn.Society.Active(); hasCard {
		// The page changes with the card, its staleness and the day.
		key += ":" + card.Stamp(now) + ":" + todayKey(card, now)
	}
	return h.kit.Cached(c, key, "countries/show", func() any {
		p := h.showPage(lang, cn, inbox)
		if hasCard {
			h.addCard(p, lang, card, now)
		}
		return p
	})
}

// showPage builds a country page; inbox is where a request from there goes
// now ("" when unknown).
func (h *Handler) showPage(lang locales.Language, cn *content.Country, inbox string) *ShowPage {
	tr := h.kit.Catalog.Translator(lang.Code)
	name := tr.Country(cn.ISO2)
	b := h.kit.Base(lang, "/countries/"+cn.ISO2, tr.T("CountryTitle", "Country", name))
	p := &ShowPage{
		Base: b, ISO2: cn.ISO2, Name: name, Society: cn.Society, Delegation: cn.ICRCDelegation, LocalOrg: cn.LocalOrg,
		LastVerified: tr.DateString(cn.LastVerified), ICRCWhereWeWork: content.ICRCWhereWeWork,
	}
	if s := cn.Society; s != nil {
		p.SocietyName = s.Name(lang.Code)
		p.SocietyRef = web.InSentence(lang.Code, p.SocietyName)
		if s.NameLocal != "" && s.NameLocal != p.SocietyName {
			p.LocalName, p.LocalLang = s.NameLocal, s.NameLocalLang
		}
		if s.Dissolved != nil {
			p.Dissolved = tr.DateString(s.Dissolved.Date)
		}
	}
	if hc, ok := h.data.Helper(cn); ok {
		p.Website = hc.Society.Website
		if hc != cn {
			p.Helper, p.HelperName = hc.Society, hc.Society.Name(lang.Code)
			p.HelperRef = web.InSentence(lang.Code, p.HelperName)
		}
	}
	if inbox != "" {
		p.Recipient = web.InSentence(lang.Code, h.data.InboxNameIn(inbox, lang.Code))
		if inbox == content.CentralInbox {
			p.Recipient = tr.T("SentICRC")
		}
	}
	claimed := map[content.Service]bool{}
	if s := cn.Society; s.Active() {
		for _, sc := range s.Services {
			cl := Claim{Services: b.ServiceTexts(serviceCodes(sc.Kinds)), Source: h.citation(tr, sc.Sources)}
			if sc.Scope != "" {
				cl.Scope = tr.T(sc.Scope)
			}
			for _, k := range sc.Kinds {
				claimed[k] = true
			}
			p.Claims = append(p.Claims, cl)
		}
	}
	var rest []content.Service
	for _, k := range content.Services() {
		if !claimed[k] {
			rest = append(rest, k)
		}
	}
	p.Services = b.ServiceTexts(serviceCodes(rest))
	var titles []string
	for _, s := range h.data.SourcesOf(cn) {
		p.Sources = append(p.Sources, SourceView{Title: s.Title, URL: s.URL, Date: tr.DateString(s.Date)})
		titles = append(titles, s.Title)
	}
	p.SourceTitles = strings.Join(titles, "; ")
	p.JSONLD = jsonLD(p, nil)
	return p
}

// addCard puts the Society's published card on its page; the services it
// says it offers leave the list of the network's other services.
func (h *Handler) addCard(p *ShowPage, lang locales.Language, card cards.Public, now time.Time) {
	tr := h.kit.Catalog.Translator(lang.Code)
	p.Card = cardView(p.Base, h.kit.Catalog, tr, card, p.SocietyName, now)
	offered := map[string]bool{}
	for _, o := range card.Card.Services {
		offered[o.Service] = true
	}
	rest := p.Services[:0:0]
	for _, s := range p.Services {
		if !offered[s.Kind] {
			rest = append(rest, s)
		}
	}
	p.Services = rest
	p.JSONLD = jsonLD(p, &card)
}

func serviceCodes(kinds []content.Service) []string {
	out := make([]string, len(kinds))
	for i, k := range kinds {
		out[i] = string(k)
	}
	return out
}

// citation names a claim's sources briefly, for a sentence: the first
// source's publisher (its title up to the first comma) and the first date
// any of them gives, in the page language ("ICRC, 10 May 2023"). Each part
// is isolated on its own: as one isolate, "ICRC" would make an Arabic date
// run left to right. The full titles are in the page's list of sources.
func (h *Handler) citation(tr *locales.Translator, keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	pub, _, _ := strings.Cut(h.data.Sources[keys[0]].Title, ",")
	for _, k := range keys {
		if d := h.data.Sources[k].Date; d != "" {
			return web.Isolate(pub) + tr.T("ListComma") + web.Isolate(tr.DateString(d))
		}
	}
	return web.Isolate(pub)
}

func checkQuery(q string) error {
	if !utf8.ValidString(q) {
		return errors.New("filter is not valid UTF-8")
	}
	if utf8.RuneCountInString(q) > MaxQuery {
		return errors.New("filter too long")
	}
	for _, r := range q {
		if unicode.IsControl(r) {
			return errors.New("filter has control characters")
		}
	}
	return nil
}

// fold makes text comparable the way a person expects a search to work:
// case, accents and Arabic short vowels do not matter.
func fold(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.ToLower(out)
}
