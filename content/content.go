// Package content loads and validates the country and National Society records
// that tell a person who can help them in the country where they live.
package content

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

//go:embed countries.json
var countriesJSON []byte

// Region is an IFRC region; countries are grouped by it.
type Region string

// The IFRC regions, in the order the site lists them.
const (
	Africa      Region = "africa"
	Americas    Region = "americas"
	AsiaPacific Region = "asia-pacific"
	Europe      Region = "europe"
	MENA        Region = "mena"
)

// Regions returns every region in display order.
func Regions() []Region { return []Region{Africa, Americas, AsiaPacific, Europe, MENA} }

// Service is one kind of family-links service from the fixed set in the spec.
type Service string

// The fixed set of family-links services.
const (
	Tracing         Service = "tracing"
	Messages        Service = "messages"
	Calls           Service = "calls"
	Reunification   Service = "reunification"
	TraceTheFace    Service = "trace-the-face"
	MissingFamilies Service = "missing-families"
	Detention       Service = "detention"
	Dead            Service = "dead"
)

// Services returns the whole fixed set, in the order pages list it.
func Services() []Service {
	return []Service{Tracing, Messages, Calls, Reunification, TraceTheFace, MissingFamilies, Detention, Dead}
}

// Contact holds the channels a public source gives for a Society. Every
// field is empty unless a named source states it.
type Contact struct {
	Address string `json:"address"`
	Phone   string `json:"phone"`
	Email   string `json:"email"`
	Hours   string `json:"hours"`
}

// Empty reports whether no contact channel is known.
func (c Contact) Empty() bool { return c == Contact{} }

// Society is a National Red Cross or Red Crescent Society.
type Society struct {
	NameEN string `json:"name_en"`
	// Names holds the Society's name in the other languages the IFRC
	// publishes it in (fr, es, ar), keyed by the site's language code.
	Names map[string]string `json:"names,omitempty"`
	// NameLocal is the name in the language the country mostly speaks
	// (CLDR likely subtags), when a source gives it in that language and
	// it differs from the English one; NameLocalLang is that language.
	NameLocal     string `json:"name_local"`
	NameLocalLang string `json:"name_local_lang,omitempty"`
	IFRCID        string `json:"ifrc_id"`
	// IFRCURL is the Society's page in the IFRC directory: the public
	// source the page links for the Society's name and website.
	IFRCURL string `json:"ifrc_url,omitempty"`
	Website string `json:"website"`
	// Dissolved is set when a source records the Society's dissolution. A
	// dissolved Society is never routed to and its website never linked.
	Dissolved *Dissolution   `json:"dissolved,omitempty"`
	Services  []ServiceClaim `json:"services"`
	Contact   Contact        `json:"contact"`
	Sources   []string       `json:"sources"`
}

// Name returns the Society's name in the page language when a source gives
// it, otherwise the English name.
func (s *Society) Name(lang string) string {
	if n := s.Names[lang]; n != "" {
		return n
	}
	return s.NameEN
}

// Active reports whether the Society exists: enquiries may go to it and
// its website may be shown.
func (s *Society) Active() bool { return s != nil && s.Dissolved == nil }

// Dissolution records that a Society was dissolved, and who says so.
type Dissolution struct {
	Date    string   `json:"date"`
	Sources []string `json:"sources"`
}

// ServiceClaim is what a source says a Society offers: some of the fixed
// services, where and to whom (Scope, a message ID translated in every
// language, empty when the source says nothing narrower).
type ServiceClaim struct {
	Kinds   []Service `json:"kinds"`
	Scope   string    `json:"scope,omitempty"`
	Sources []string  `json:"sources"`
}

// Cover names the member Society that works in a place without a Society
// of its own (a territory), by that Society's country code.
type Cover struct {
	Society string   `json:"society"`
	Sources []string `json:"sources"`
}

// LocalOrg is a Red Cross organisation that a source names for a place
// but that is not a member National Society: shown, never routed to.
type LocalOrg struct {
	Name    string   `json:"name"`
	Website string   `json:"website,omitempty"`
	Sources []string `json:"sources"`
}

// Delegation is the ICRC delegation that covers a country.
type Delegation struct {
	Name string `json:"name"`
	URL  string `json:"url"`
	// Inbox is the back-office inbox of the delegation, "icrc-" and a
	// slug, shared by every country it covers.
	Inbox   string   `json:"inbox"`
	Sources []string `json:"sources"`
}

// Country is one country or territory the site covers.
type Country struct {
	ISO2    string   `json:"iso2"`
	NameEN  string   `json:"name_en"`
	Region  Region   `json:"region"`
	Society *Society `json:"society"`
	// CoveredBy and LocalOrg describe a place without a Society of its own.
	CoveredBy      *Cover      `json:"covered_by,omitempty"`
	LocalOrg       *LocalOrg   `json:"local_org,omitempty"`
	ICRCDelegation *Delegation `json:"icrc_delegation"`
	Sources        []string    `json:"sources"`
	LastVerified   string      `json:"last_verified"`
}

// Source is a public source that records cite by key.
type Source struct {
	Title string `json:"title"`
	// URL is empty for a published text whose address is not known; the
	// page then shows its title and date only.
	URL string `json:"url,omitempty"`
	// Date is when the source was published or last changed (YYYY-MM-DD).
	Date string `json:"date,omitempty"`
	// Data marks a data file (a GitHub file): cited in SOURCES.md and shown
	// on a page only for a claim no other source makes.
	Data bool `json:"data,omitempty"`
}

// Data is the whole, validated content set. It is read-only once loaded.
type Data struct {
	Sources   map[string]Source `json:"sources"`
	Countries []Country         `json:"countries"`
	byISO     map[string]int
}

// Load parses and validates the embedded data set.
func Load() (*Data, error) { return Parse(countriesJSON) }

// Parse decodes a data set, rejects unknown fields and validates it.
func Parse(b []byte) (*Data, error) {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	var d Data
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("content: decode: %w", err)
	}
	sort.SliceStable(d.Countries, func(i, j int) bool { return d.Countries[i].ISO2 < d.Countries[j].ISO2 })
	d.byISO = make(map[string]int, len(d.Countries))
	for i, c := range d.Countries {
		if _, dup := d.byISO[c.ISO2]; !dup {
			d.byISO[c.ISO2] = i
		}
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Country returns the country with the given lower-case ISO 3166-1 alpha-2 code.
func (d *Data) Country(iso2 string) (*Country, bool) {
	i, ok := d.byISO[iso2]
	if !ok {
		return nil, false
	}
	return &d.Countries[i], true
}

// Codes returns every country's code, in code order.
func (d *Data) Codes() []string {
	out := make([]string, len(d.Countries))
	for i, c := range d.Countries {
		out[i] = c.ISO2
	}
	return out
}

// Societies counts the countries that have a National Society.
func (d *Data) Societies() int {
	n := 0
	for _, c := range d.Countries {
		if c.Society != nil {
			n++
		}
	}
	return n
}

// SourcesOf returns the sources a country's page cites, each once, in a
// stable order: the Society's page in the IFRC directory for its name and
// website, then the sources of each further claim the page makes
// (dissolution, services, who covers a territory, a local organisation,
// the ICRC delegation). The record's own data files are cited only when
// the page makes no claim with a better source.
func (d *Data) SourcesOf(c *Country) []Source {
	var out []Source
	seen := map[string]bool{}
	add := func(keys ...string) {
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				out = append(out, d.Sources[k])
			}
		}
	}
	if s := c.Society; s != nil {
		if s.IFRCURL != "" {
			out = append(out, Source{Title: "IFRC, National Societies directory: " + s.NameEN, URL: s.IFRCURL})
		} else {
			add(s.Sources...)
		}
		if s.Dissolved != nil {
			add(s.Dissolved.Sources...)
		}
		for _, sc := range s.Services {
			add(sc.Sources...)
		}
	}
	if cv := c.CoveredBy; cv != nil {
		add(cv.Sources...)
		if o, ok := d.Country(cv.Society); ok && o.Society != nil && o.Society.IFRCURL != "" {
			out = append(out, Source{Title: "IFRC, National Societies directory: " + o.Society.NameEN, URL: o.Society.IFRCURL})
		}
	}
	if l := c.LocalOrg; l != nil {
		add(l.Sources...)
	}
	if dl := c.ICRCDelegation; dl != nil {
		add(dl.Sources...)
	}
	if len(out) == 0 {
		add(c.Sources...)
	}
	return out
}

// Helper is who a person living in a country can turn to through this
// site: its own active Society, or the member Society covering a place
// without one. It is nil where only the ICRC can be named.
func (d *Data) Helper(c *Country) (*Country, bool) {
	if c.Society.Active() {
		return c, true
	}
	if c.Society == nil && c.CoveredBy != nil {
		if o, ok := d.Country(c.CoveredBy.Society); ok && o.Society.Active() {
			return o, true
		}
	}
	return nil, false
}
