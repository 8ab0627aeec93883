package locales

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// regionNames gives country names per language: CLDR through x/text, with
// the newer CLDR names of region_overrides.json laid over it (x/text ships
// CLDR 32, which still says "Swaziland" and lacks some Somali and Tigrinya
// names). See gen/regions.go.
type regionNames struct {
	namers    map[string]display.Namer     // language code → x/text namer
	overrides map[string]map[string]string // language code → REGION → name
	english   display.Namer
}

func loadRegionNames(langs []Language) (*regionNames, error) {
	b, err := fs.ReadFile(files, "region_overrides.json")
	if err != nil {
		return nil, fmt.Errorf("locales: %w", err)
	}
	var doc struct {
		Source    string                       `json:"source"`
		Overrides map[string]map[string]string `json:"overrides"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("locales: region_overrides.json: %w", err)
	}
	rn := &regionNames{
		namers:    map[string]display.Namer{},
		overrides: map[string]map[string]string{},
		english:   display.Regions(language.English),
	}
	for _, l := range langs {
		rn.namers[l.Code] = display.Regions(l.Tag)
		rn.overrides[l.Code] = doc.Overrides[l.Tag.String()]
	}
	return rn, nil
}

// lookup returns the country name, or "" when neither source has one.
func (rn *regionNames) lookup(code, iso2 string) string {
	upper := strings.ToUpper(iso2)
	if n, ok := rn.overrides[code][upper]; ok {
		return n
	}
	r, err := language.ParseRegion(upper)
	if err != nil {
		return ""
	}
	if nm := rn.namers[code]; nm != nil {
		return nm.Name(r)
	}
	return ""
}

// name is lookup with the English name, then the code, as fallbacks.
func (rn *regionNames) name(code, iso2 string) string {
	if n := rn.lookup(code, iso2); n != "" {
		return n
	}
	if n := rn.lookup("en", iso2); n != "" {
		return n
	}
	return strings.ToUpper(iso2)
}
