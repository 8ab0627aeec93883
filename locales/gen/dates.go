//go:build ignore

// Command dates regenerates locales/dates.json: for each of the site's ten
// languages, CLDR's long date pattern, month names (format, wide), weekday
// names (stand-alone, wide), short time pattern with its AM/PM marks, and
// the digits of the language's default numbering system, from the npm packages
// cldr-dates-full, cldr-numbers-full and cldr-core. Run it from the
// repository root:
//
//	npm install --prefix /tmp/cldr cldr-dates-full@48.2.0 cldr-numbers-full@48.2.0 cldr-core@48.2.0
//	go run ./locales/gen/dates.go -cldr /tmp/cldr/node_modules
package main

import (
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"
	"strconv"
)

func main() {
	dir := flag.String("cldr", "", "the node_modules directory holding the three CLDR packages")
	version := flag.String("version", "48.2.0", "the packages' version, recorded in the output")
	out := flag.String("o", "locales/dates.json", "output file")
	flag.Parse()
	read := func(v any, parts ...string) {
		b, err := os.ReadFile(filepath.Join(append([]string{*dir}, parts...)...))
		if err != nil {
			log.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			log.Fatal(err)
		}
	}
	var systems struct {
		Supplemental struct {
			NumberingSystems map[string]struct {
				Digits string `json:"_digits"`
			} `json:"numberingSystems"`
		} `json:"supplemental"`
	}
	read(&systems, "cldr-core", "supplemental", "numberingSystems.json")
	type entry struct {
		Pattern string    `json:"pattern"`
		Months  []string  `json:"months"`
		Days    []string  `json:"days"`
		Time    string    `json:"time"`
		AMPM    [2]string `json:"ampm"`
		Digits  string    `json:"digits"`
	}
	doc := struct {
		Source string           `json:"source"`
		Langs  map[string]entry `json:"langs"`
	}{Source: "Unicode CLDR " + *version + " (npm cldr-dates-full, cldr-numbers-full, cldr-core): gregorian dateFormats.long, months.format.wide, days.stand-alone.wide, timeFormats.short, dayPeriods.format.abbreviated, defaultNumberingSystem", Langs: map[string]entry{}}
	for _, loc := range []string{"en", "fr", "es", "ar", "fa-AF", "ps", "so", "ru", "uk", "ti"} {
		var cal struct {
			Main map[string]struct {
				Dates struct {
					Calendars struct {
						Gregorian struct {
							Months struct {
								Format struct {
									Wide map[string]string `json:"wide"`
								} `json:"format"`
							} `json:"months"`
							Days struct {
								StandAlone struct {
									Wide map[string]string `json:"wide"`
								} `json:"stand-alone"`
							} `json:"days"`
							DayPeriods struct {
								Format struct {
									Abbreviated map[string]string `json:"abbreviated"`
								} `json:"format"`
							} `json:"dayPeriods"`
							DateFormats map[string]any `json:"dateFormats"`
							TimeFormats map[string]any `json:"timeFormats"`
						} `json:"gregorian"`
					} `json:"calendars"`
				} `json:"dates"`
			} `json:"main"`
		}
		read(&cal, "cldr-dates-full", "main", loc, "ca-gregorian.json")
		var num struct {
			Main map[string]struct {
				Numbers struct {
					Default string `json:"defaultNumberingSystem"`
				} `json:"numbers"`
			} `json:"main"`
		}
		read(&num, "cldr-numbers-full", "main", loc, "numbers.json")
		g := cal.Main[loc].Dates.Calendars.Gregorian
		e := entry{
			Pattern: g.DateFormats["long"].(string),
			Time:    g.TimeFormats["short"].(string),
			AMPM:    [2]string{g.DayPeriods.Format.Abbreviated["am"], g.DayPeriods.Format.Abbreviated["pm"]},
			Digits:  systems.Supplemental.NumberingSystems[num.Main[loc].Numbers.Default].Digits,
		}
		for m := 1; m <= 12; m++ {
			e.Months = append(e.Months, g.Months.Format.Wide[strconv.Itoa(m)])
		}
		for _, d := range []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} {
			e.Days = append(e.Days, g.Days.StandAlone.Wide[d])
		}
		doc.Langs[loc] = e
	}
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}
