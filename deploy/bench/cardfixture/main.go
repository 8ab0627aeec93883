// Command cardfixture turns `familylinks directory export` (standard input)
// into a `directory import` file with one full contact card for every
// active Society (standard output), so that `make bench` measures country
// pages that carry a card. The details are the bench's own: a number in
// the range Ofcom keeps for drama, example.org addresses. They go only
// into the bench's throw-away database.
package main

import (
	"encoding/json"
	"log"
	"os"
)

func main() {
	var doc struct {
		Countries []struct {
			ISO2    string `json:"iso2"`
			Society *struct {
				Dissolved string `json:"dissolved"`
			} `json:"society"`
		} `json:"countries"`
	}
	if err := json.NewDecoder(os.Stdin).Decode(&doc); err != nil {
		log.Fatal(err)
	}
	hours := []map[string]any{}
	for d := 1; d <= 5; d++ {
		hours = append(hours, map[string]any{"day": d, "open": "09:00", "close": "17:00"})
	}
	type entry struct {
		ISO2 string         `json:"iso2"`
		Card map[string]any `json:"card"`
	}
	var out struct {
		Countries []entry `json:"countries"`
	}
	for _, c := range doc.Countries {
		if c.Society == nil || c.Society.Dissolved != "" {
			continue
		}
		out.Countries = append(out.Countries, entry{ISO2: c.ISO2, Card: map[string]any{
			"desk":     map[string]string{"en": "Family tracing service", "ar": "خدمة البحث عن المفقودين"},
			"services": []map[string]string{{"service": "tracing"}, {"service": "messages", "note": "at every branch"}, {"service": "calls"}},
			"phones": []map[string]any{
				{"number": "+442079460000", "label": "Hotline", "voice": true, "free": true},
				{"number": "+442079460001", "sms": true, "whatsapp": true},
			},
			"emails":   []string{"tracing@example.org"},
			"rfl_page": "https://example.org/family-links",
			"places": []map[string]any{{"name": "Head office", "address": "1 Example Street", "city": "Capital", "time_zone": "Europe/London",
				"languages": []string{"en", "ar", "fr"}, "hours": hours}},
			"notes": map[string]string{"en": "Bring *any* document you have: an old letter, a photo, a message."},
		}})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(out); err != nil {
		log.Fatal(err)
	}
}
