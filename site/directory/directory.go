// Package directory is the open directory of the Family Links Network as
// this site knows it: every place a person may live, who helps there, the
// services sources name, and each Society's published contact card. It is
// served as JSON under /api/v1 and written by `familylinks directory
// export`. Nothing in it is personal, and nothing comes from a draft.
package directory

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/web"
)

// Document is the whole directory.
type Document struct {
	About     string  `json:"about"`
	Countries []Entry `json:"countries"`
}

// Entry is one place a person may live.
type Entry struct {
	ISO2 string `json:"iso2"`
	Name string `json:"name"`
	// Society is the place's own National Society (possibly dissolved).
	Society *Society `json:"society,omitempty"`
	// CoveredBy is the code of the Society that helps in a place without
	// its own.
	CoveredBy      string      `json:"covered_by,omitempty"`
	LocalOrg       *Org        `json:"local_org,omitempty"`
	ICRCDelegation *Org        `json:"icrc_delegation,omitempty"`
	Services       []Services  `json:"services_sourced,omitempty"`
	Card           *Card       `json:"card,omitempty"`
	Sources        []SourceRef `json:"sources"`
	LastVerified   string      `json:"last_verified"`
}

// Society is a National Society as public records name it.
type Society struct {
	Name      string            `json:"name"`
	Names     map[string]string `json:"names,omitempty"`
	NameLocal string            `json:"name_local,omitempty"`
	Website   string            `json:"website,omitempty"`
	IFRCURL   string            `json:"ifrc_url,omitempty"`
	Dissolved string            `json:"dissolved,omitempty"`
}

// Org is an organisation with its website.
type Org struct {
	Name    string `json:"name"`
	Website string `json:"website,omitempty"`
}

// Services is what one set of sources says a Society offers.
type Services struct {
	Services []string `json:"services"`
	Scope    string   `json:"scope,omitempty"`
	Sources  []string `json:"sources"`
}

// Card is a Society's published card: what its staff typed, the notes as
// published (sanitised HTML), and when it was published and last
// confirmed. Who saved or published it is not here.
type Card struct {
	cards.Card
	NotesHTML     map[string]template.HTML `json:"notes_html,omitempty"`
	Published     time.Time                `json:"published"`
	LastConfirmed time.Time                `json:"last_confirmed"`
}

// SourceRef is a public source.
type SourceRef struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	URL   string `json:"url,omitempty"`
	Date  string `json:"date,omitempty"`
}

// About says what the document is, for whoever finds a copy of it.
const About = "Family Links directory: who helps people who lost contact with a relative, in each place they may live. Society data from public records (see each entry's sources); contact cards as published by the Societies themselves. Nothing personal."

// Build makes the directory from the data and the published cards, with
// English names and scopes (tr).
func Build(data *content.Data, published map[string]cards.Public, tr *locales.Translator) Document {
	doc := Document{About: About}
	for i := range data.Countries {
		doc.Countries = append(doc.Countries, entry(data, &data.Countries[i], published, tr))
	}
	return doc
}

func entry(data *content.Data, c *content.Country, published map[string]cards.Public, tr *locales.Translator) Entry {
	e := Entry{ISO2: c.ISO2, Name: c.NameEN, LastVerified: c.LastVerified}
	if s := c.Society; s != nil {
		e.Society = &Society{Name: s.NameEN, Names: s.Names, NameLocal: s.NameLocal, IFRCURL: s.IFRCURL}
		if s.Active() {
			e.Society.Website = s.Website
			for _, sc := range s.Services {
				sv := Services{Sources: sc.Sources}
				for _, k := range sc.Kinds {
					sv.Services = append(sv.Services, string(k))
				}
				if sc.Scope != "" {
					sv.Scope = tr.T(sc.Scope)
				}
				e.Services = append(e.Services, sv)
			}
			if p, ok := published[c.ISO2]; ok {
				e.Card = &Card{Card: p.Card, NotesHTML: p.NotesHTML, Published: p.Published.UTC(), LastConfirmed: p.Confirmed.UTC()}
			}
		} else if s.Dissolved != nil {
			e.Society.Dissolved = s.Dissolved.Date
		}
	}
	if c.CoveredBy != nil {
		e.CoveredBy = c.CoveredBy.Society
	}
	if o := c.LocalOrg; o != nil {
		e.LocalOrg = &Org{Name: o.Name, Website: o.Website}
	}
	if d := c.ICRCDelegation; d != nil {
		e.ICRCDelegation = &Org{Name: d.Name, Website: d.URL}
	}
	for _, key := range sourceKeys(data, c) {
		s := data.Sources[key]
		e.Sources = append(e.Sources, SourceRef{Key: key, Title: s.Title, URL: s.URL, Date: s.Date})
	}
	return e
}

// sourceKeys lists every source the entry cites, once, in the order the
// record gives them.
func sourceKeys(data *content.Data, c *content.Country) []string {
	seen := map[string]bool{}
	var out []string
	add := func(keys []string) {
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	add(c.Sources)
	if s := c.Society; s != nil {
		add(s.Sources)
		for _, sc := range s.Services {
			add(sc.Sources)
		}
		if s.Dissolved != nil {
			add(s.Dissolved.Sources)
		}
	}
	if c.LocalOrg != nil {
		add(c.LocalOrg.Sources)
	}
	if c.ICRCDelegation != nil {
		add(c.ICRCDelegation.Sources)
	}
	return out
}

// Handler serves the directory.
type Handler struct {
	kit   *web.Kit
	data  *content.Data
	cards *cards.Directory
}

// New returns the directory handler; dir may be nil (no cards).
func New(kit *web.Kit, data *content.Data, dir *cards.Directory) *Handler {
	return &Handler{kit: kit, data: data, cards: dir}
}

// CachePrefix starts the page-cache keys of the directory's documents, so
// that they can be forgotten when a card changes.
const CachePrefix = "directory:"

// Register registers the routes under /api/v1.
func (h *Handler) Register(app *fiber.App) {
	api := app.Group("/api/v1", openCORS)
	api.Get("/directory.json", h.all)       // every place, who helps, published cards
	api.Get("/directory/:iso2.json", h.one) // one place
}

// openCORS lets any site read the directory with GET.
func openCORS(c *fiber.Ctx) error {
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	return c.Next()
}

func (h *Handler) all(c *fiber.Ctx) error {
	published := h.cards.All(c.UserContext())
	return h.serve(c, CachePrefix+"all:"+stamp(published, ""), func() any {
		return Build(h.data, published, h.kit.Catalog.Translator("en"))
	})
}

func (h *Handler) one(c *fiber.Ctx) error {
	cn, ok := h.data.Country(c.Params("iso2"))
	if !ok {
		return c.Status(fiber.StatusNotFound).JSON(fiber.Map{"error": "no such place: use a lower-case ISO 3166-1 code that /api/v1/directory.json lists"})
	}
	published := h.cards.All(c.UserContext())
	return h.serve(c, CachePrefix+cn.ISO2+":"+stamp(published, cn.ISO2), func() any {
		return entry(h.data, cn, published, h.kit.Catalog.Translator("en"))
	})
}

func (h *Handler) serve(c *fiber.Ctx, key string, build func() any) error {
	e, err := h.kit.Pages.Get(key, fiber.MIMEApplicationJSONCharsetUTF8, func() ([]byte, error) {
		return json.MarshalIndent(build(), "", " ")
	})
	if err != nil {
		return err
	}
	return e.Serve(c, web.PublicPage)
}

// stamp identifies the published cards a document is built from (one
// Society's, or all with only ""), so that a cached document is never
// served after a card changed.
func stamp(published map[string]cards.Public, only string) string {
	var sb strings.Builder
	for _, code := range slices.Sorted(maps.Keys(published)) {
		if only != "" && code != only {
			continue
		}
		p := published[code]
		sb.WriteString(code + "=" + p.Stamp(p.Confirmed) + ";")
	}
	sum := sha256.Sum256([]byte(sb.String()))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}
