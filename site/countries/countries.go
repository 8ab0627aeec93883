// Package countries serves the home page, the list of countries and one page
// per country: who to contact there and what they can do.
package countries

import (
	"errors"
	"net/url"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
	"golang.org/x/text/collate"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// MaxQuery is the longest filter text accepted, in characters.
const MaxQuery = 100

// Handler serves the country pages.
type Handler struct {
	kit  *web.Kit
	data *content.Data
	// lists holds, per language code, every country sorted the way that
	// language sorts. collate.Collator is not safe for concurrent use, so
	// sorting happens once, here, at start-up.
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

// New sorts the countries for every language.
func New(kit *web.Kit, data *content.Data) *Handler {
	h := &Handler{kit: kit, data: data, lists: map[string][]Item{}}
	for _, l := range kit.Catalog.Languages() {
		tr := kit.Catalog.Translator(l.Code)
		items := make([]Item, 0, len(data.Countries))
		for _, c := range data.Countries {
			it := Item{ISO2: c.ISO2, Name: tr.Country(c.ISO2), Region: c.Region}
			parts := []string{it.Name, c.NameEN, c.ISO2}
			if c.Society != nil {
				it.Society = c.Society.NameEN
				parts = append(parts, c.Society.NameEN, c.Society.NameLocal)
			}
			it.fold = fold(strings.Join(parts, "\x00"))
			items = append(items, it)
		}
		col := collate.New(l.Tag, collate.Loose)
		sort.SliceStable(items, func(i, j int) bool { return col.CompareString(items[i].Name, items[j].Name) < 0 })
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

// Sorted returns the countries in a language's order.
func (h *Handler) Sorted(code string) []Item { return h.lists[code] }

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
	ISO2            string
	Name            string
	Society         *content.Society
	Delegation      *content.Delegation
	ServicesKnown   bool
	Services        []web.ServiceText
	Sources         []content.Source
	SourceTitles    string
	LastVerified    string
	ICRCWhereWeWork string
}

// Host shows a website address without its scheme.
func (p *ShowPage) Host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.TrimPrefix(u.Host, "www.")
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
	return h.kit.Cached(c, "country:"+lang.Code+":"+cn.ISO2, "countries/show", func() any {
		tr := h.kit.Catalog.Translator(lang.Code)
		name := tr.Country(cn.ISO2)
		b := h.kit.Base(lang, "/countries/"+cn.ISO2, tr.T("CountryTitle", "Country", name))
		p := &ShowPage{
			Base: b, ISO2: cn.ISO2, Name: name, Society: cn.Society, Delegation: cn.ICRCDelegation,
			Sources: h.data.SourcesOf(cn), LastVerified: cn.LastVerified, ICRCWhereWeWork: content.ICRCWhereWeWork,
		}
		kinds := content.Services()
		if cn.Society != nil && len(cn.Society.Services) > 0 {
			kinds, p.ServicesKnown = cn.Society.Services, true
		}
		p.Services = b.ServiceTexts(kinds)
		titles := make([]string, len(p.Sources))
		for i, s := range p.Sources {
			titles[i] = s.Title
		}
		p.SourceTitles = strings.Join(titles, "; ")
		return p
	})
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
