//go:build ignore

// Command regions regenerates locales/region_overrides.json: the country
// names of current CLDR (from the npm package cldr-localenames-full) wherever
// they differ from the older CLDR data inside golang.org/x/text, for the
// site's ten languages. Run it from the repository root:
//
//	npm install --prefix /tmp/cldr cldr-localenames-full@48.2.0
//	go run ./locales/gen/regions.go -cldr /tmp/cldr/node_modules/cldr-localenames-full
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"

	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

func main() {
	dir := flag.String("cldr", "", "path to the cldr-localenames-full package")
	version := flag.String("version", "48.2.0", "the package's version, recorded in the output")
	out := flag.String("o", "locales/region_overrides.json", "output file")
	flag.Parse()
	// The CLDR locale whose names each site language uses.
	locales := []string{"en", "fr", "es", "ar", "fa-AF", "ps", "so", "ru", "uk", "ti"}
	overrides := map[string]map[string]string{}
	for _, loc := range locales {
		b, err := os.ReadFile(filepath.Join(*dir, "main", loc, "territories.json"))
		if err != nil {
			log.Fatal(err)
		}
		var doc struct {
			Main map[string]struct {
				LocaleDisplayNames struct {
					Territories map[string]string `json:"territories"`
				} `json:"localeDisplayNames"`
			} `json:"main"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			log.Fatal(err)
		}
		names := doc.Main[loc].LocaleDisplayNames.Territories
		old := display.Regions(language.MustParse(loc))
		for code, name := range names {
			r, err := language.ParseRegion(code)
			if err != nil || !r.IsCountry() || len(code) != 2 {
				continue
			}
			// The Movement says "Palestine"; CLDR keeps that as the short form.
			if short, ok := names[code+"-alt-short"]; ok && code == "PS" {
				name = short
			}
			if old.Name(r) == name {
				continue
			}
			if overrides[loc] == nil {
				overrides[loc] = map[string]string{}
			}
			overrides[loc][code] = name
		}
	}
	doc := struct {
		Source    string                       `json:"source"`
		Overrides map[string]map[string]string `json:"overrides"`
	}{
		Source:    "Unicode CLDR, npm package cldr-localenames-full@" + *version + ", main/{locale}/territories.json",
		Overrides: overrides,
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}
