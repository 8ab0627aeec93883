package web

import (
	"sort"

	"golang.org/x/text/collate"

	"github.com/familylinks/familylinks/locales"
)

// MaxMessage is the longest message, in characters, that the contact form
// and a photo's information form accept.
const MaxMessage = 5000

// Option is one choice of a select.
type Option struct {
	Value, Label string
	Selected     bool
}

// CountryName is a country as a list shows it in one language.
type CountryName struct {
	ISO2, Name string
}

// CountryNames holds every country the site covers, named and sorted the
// way each language sorts. collate.Collator is not safe for concurrent
// use, so the sorting happens once, at start-up.
type CountryNames struct {
	lists map[string][]CountryName
}

// NewCountryNames names and sorts codes (lower-case ISO 3166-1) in every
// language of the catalog.
func NewCountryNames(cat *locales.Catalog, codes []string) *CountryNames {
	cn := &CountryNames{lists: map[string][]CountryName{}}
	for _, l := range cat.Languages() {
		tr := cat.Translator(l.Code)
		list := make([]CountryName, len(codes))
		for i, c := range codes {
			list[i] = CountryName{ISO2: c, Name: tr.Country(c)}
		}
		col := collate.New(l.Tag, collate.Loose)
		sort.SliceStable(list, func(i, j int) bool { return col.CompareString(list[i].Name, list[j].Name) < 0 })
		cn.lists[l.Code] = list
	}
	return cn
}

// Sorted returns the countries in a language's order. The slice is shared:
// callers must not change it.
func (cn *CountryNames) Sorted(lang string) []CountryName { return cn.lists[lang] }

// Options returns the countries as a select's choices, selected marking
// one.
func (cn *CountryNames) Options(lang, selected string) []Option {
	list := cn.lists[lang]
	out := make([]Option, len(list))
	for i, c := range list {
		out[i] = Option{Value: c.ISO2, Label: c.Name, Selected: c.ISO2 == selected}
	}
	return out
}

// InfoForm is what a photo page needs to show the "Do you have
// information?" form, which posts to the contact form.
type InfoForm struct {
	CSRF       string
	About      string
	Countries  []Option
	Languages  []Option
	MaxMessage int
}

// NewInfoForm prepares the information form for a photo, in lang.
func (k *Kit) NewInfoForm(csrf, about, lang string) InfoForm {
	f := InfoForm{CSRF: csrf, About: about, MaxMessage: MaxMessage, Countries: k.Countries.Options(lang, "")}
	for _, l := range k.Catalog.Languages() {
		f.Languages = append(f.Languages, Option{Value: l.Code, Label: l.Name, Selected: l.Code == lang})
	}
	return f
}
