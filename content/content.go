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
	NameEN    string    `json:"name_en"`
	NameLocal string    `json:"name_local"`
	IFRCID    string    `json:"ifrc_id"`
	Website   string    `json:"website"`
	Services  []Service `json:"services"`
	Contact   Contact   `json:"contact"`
	Sources   []string  `json:"sources"`
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
	ISO2           string      `json:"iso2"`
	NameEN         string      `json:"name_en"`
	Region         Region      `json:"region"`
	Society        *Society    `json:"society"`
	ICRCDelegation *Delegation `json:"icrc_delegation"`
	Sources        []string    `json:"sources"`
	LastVerified   string      `json:"last_verified"`
}

// Source is a public source that records cite by key.
type Source struct {
	Title string `json:"title"`
	URL   string `json:"url"`
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

// SourcesOf returns the sources a country's page cites: its own and its
// Society's and delegation's, each once, in a stable order.
func (d *Data) SourcesOf(c *Country) []Source {
	keys := append([]string{}, c.Sources...)
	if c.Society != nil {
		keys = append(keys, c.Society.Sources...)
	}
	if c.ICRCDelegation != nil {
		keys = append(keys, c.ICRCDelegation.Sources...)
	}
	seen := map[string]bool{}
	var out []Source
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d.Sources[k])
	}
	return out
}
