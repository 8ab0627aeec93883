package content

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEmbeddedDataIsValid(t *testing.T) {
	d, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// The IFRC Secretariat's list, our source, names 192 member Societies
	// (see SOURCES.md); the spec's "191" is the often-quoted older figure.
	if n := d.Societies(); n < 191 {
		t.Errorf("only %d National Societies; every IFRC member must be covered", n)
	}
	for _, iso := range []string{"om", "nr", "va"} {
		c, ok := d.Country(iso)
		if !ok {
			t.Errorf("%s missing: countries without a Society must route to the ICRC", iso)
			continue
		}
		if c.Society != nil {
			t.Errorf("%s should have no National Society", iso)
		}
	}
	for iso, want := range map[string]string{"af": "Afghan Red Crescent", "de": "German Red Cross", "fr": "French Red Cross"} {
		c, ok := d.Country(iso)
		if !ok || c.Society == nil || c.Society.NameEN != want {
			t.Errorf("%s: want Society %q, got %+v", iso, want, c)
		}
	}
	if _, ok := d.Country("AF"); ok {
		t.Error("lookups must be by lower-case code only")
	}
}

// TestNoUnsourcedFacts guards the rule that a contact channel or website
// appears only with a source named on the record.
func TestNoUnsourcedFacts(t *testing.T) {
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Countries {
		s := c.Society
		if s == nil {
			continue
		}
		hasFact := s.Website != "" || !s.Contact.Empty() || len(s.Services) > 0 || s.NameLocal != ""
		if hasFact && len(s.Sources) == 0 {
			t.Errorf("%s: facts without a source", c.ISO2)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	good := func() map[string]any {
		return map[string]any{
			"sources": map[string]any{"s": map[string]any{"title": "A source", "url": "https://example.org/list"}},
			"countries": []any{
				map[string]any{
					"iso2": "af", "name_en": "Afghanistan", "region": "asia-pacific",
					"society": map[string]any{
						"name_en": "Afghan Red Crescent Society", "name_local": "", "ifrc_id": "DAF001",
						"website": "http://www.arcs.org.af", "services": []any{map[string]any{"kinds": []any{"tracing"}, "sources": []any{"s"}}},
						"contact": map[string]any{"address": "", "phone": "", "email": "", "hours": ""},
						"sources": []any{"s"},
					},
					"icrc_delegation": nil, "sources": []any{"s"}, "last_verified": "2026-11-01",
				},
				map[string]any{
					"iso2": "om", "name_en": "Oman", "region": "mena", "society": nil,
					"icrc_delegation": nil, "sources": []any{"s"}, "last_verified": "2026-11-01",
				},
			},
		}
	}
	country := func(m map[string]any, i int) map[string]any { return m["countries"].([]any)[i].(map[string]any) }
	society := func(m map[string]any) map[string]any { return country(m, 0)["society"].(map[string]any) }
	tests := []struct {
		name   string
		mutate func(map[string]any)
		want   string
	}{
		{"duplicate code", func(m map[string]any) { country(m, 1)["iso2"] = "af" }, "appears twice"},
		{"upper-case code", func(m map[string]any) { country(m, 1)["iso2"] = "OM" }, "two lower-case letters"},
		{"not a country", func(m map[string]any) { country(m, 1)["iso2"] = "zz" }, "not an ISO 3166-1"},
		{"unknown region", func(m map[string]any) { country(m, 1)["region"] = "antarctica" }, "unknown region"},
		{"unknown service", func(m map[string]any) {
			society(m)["services"] = []any{map[string]any{"kinds": []any{"teleportation"}, "sources": []any{"s"}}}
		}, "unknown service"},
		{"service without a source", func(m map[string]any) {
			society(m)["services"] = []any{map[string]any{"kinds": []any{"tracing"}}}
		}, "without a source"},
		{"dissolved but linked", func(m map[string]any) {
			society(m)["dissolved"] = map[string]any{"date": "2023-05-09", "sources": []any{"s"}}
		}, "dissolved but still links its website"},
		{"covered by a dissolved Society", func(m map[string]any) {
			society(m)["website"], society(m)["services"] = "", []any{}
			society(m)["dissolved"] = map[string]any{"date": "2023-05-09", "sources": []any{"s"}}
			country(m, 1)["covered_by"] = map[string]any{"society": "af", "sources": []any{"s"}}
		}, "routed to it"},
		{"covered by no Society", func(m map[string]any) {
			country(m, 1)["covered_by"] = map[string]any{"society": "zz", "sources": []any{"s"}}
		}, "which has no Society"},
		{"covered without a source", func(m map[string]any) {
			country(m, 1)["covered_by"] = map[string]any{"society": "af", "sources": []any{}}
		}, "covered_by: cites no source"},
		{"website not http", func(m map[string]any) { society(m)["website"] = "javascript:alert(1)" }, "website"},
		{"unknown source", func(m map[string]any) { society(m)["sources"] = []any{"nowhere"} }, "unknown source"},
		{"no source", func(m map[string]any) { country(m, 1)["sources"] = []any{} }, "cites no source"},
		{"bad date", func(m map[string]any) { country(m, 1)["last_verified"] = "yesterday" }, "not a date"},
		{"future date", func(m map[string]any) { country(m, 1)["last_verified"] = "2999-01-01" }, "in the future"},
		{"bad email", func(m map[string]any) {
			society(m)["contact"].(map[string]any)["email"] = "not an email"
		}, "email"},
		{"bad phone", func(m map[string]any) {
			society(m)["contact"].(map[string]any)["phone"] = "call us"
		}, "phone"},
		{"bad IFRC id", func(m map[string]any) { society(m)["ifrc_id"] = "42" }, "IFRC id"},
		{"unknown field", func(m map[string]any) { country(m, 1)["capital"] = "Muscat" }, "unknown field"},
	}
	if _, err := Parse(mustJSON(t, good())); err != nil {
		t.Fatalf("the good data set must pass: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good()
			tt.mutate(m)
			_, err := Parse(mustJSON(t, m))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want an error containing %q, got %v", tt.want, err)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
