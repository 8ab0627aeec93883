package cards

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/familylinks/familylinks/locales"
)

var langs = []string{"en", "fr", "es", "ar", "prs", "ps", "so", "ru", "uk", "ti"}

// TestPhonesBecomeE164: numbers typed the way people write them become
// E.164; a national number takes the Society's country.
func TestPhonesBecomeE164(t *testing.T) {
	for _, tt := range []struct{ country, typed, want string }{
		{"de", "030 85404-0", "+4930854040"},
		{"de", "+49 (0)30 85404 0", "+4930854040"},
		{"ch", "+41 22 730 21 11", "+41227302111"},
		{"pa", "315-1388", "+5073151388"},
		{"so", "+252 61 1234567", "+252611234567"},
	} {
		c, errs := Validate(Card{Phones: []Phone{{Number: tt.typed, Voice: true}}}, tt.country, langs)
		if errs != nil || c.Phones[0].Number != tt.want {
			t.Errorf("%s %q: %q %v, want %q", tt.country, tt.typed, c.Phones[0].Number, errs, tt.want)
		}
	}
}

// TestValidateNamesEveryProblemAndKeepsInput: each bad field is named,
// and what was typed comes back as typed.
func TestValidateNamesEveryProblemAndKeepsInput(t *testing.T) {
	in := Card{
		Desk:     map[string]string{"en": "Tracing service", "xx": "?"},
		Services: []Offer{{Service: "tracing"}, {Service: "teleportation"}, {Service: "tracing"}},
		Phones:   []Phone{{Number: "call us", Voice: true}, {Number: "+41 22 730 21 11"}},
		Emails:   []string{"tracing@drk.example", "Ana <ana@drk.example>", "nope"},
		RFLPage:  "javascript:alert(1)",
		Form:     "ftp://drk.example/form",
		Places: []Place{{Name: "", Address: "", TimeZone: "Mars/Olympus", Languages: []string{"ar", "not a tag"},
			Hours: []Hours{{Day: time.Monday, Open: "09:00", Close: "08:00"}, {Day: 9, Open: "09:00", Close: "17:00"}, {Day: time.Friday, Open: "9", Close: "17:00"}}}},
		Notes: map[string]string{"ar": strings.Repeat("x", MaxNote+1)},
	}
	out, errs := Validate(in, "de", langs)
	for _, f := range []string{"desk.xx", "services.1.service", "services.2.service", "phones.0.number", "phones.1.use",
		"emails.1", "emails.2", "rfl_page", "form", "places.0.name", "places.0.address", "places.0.time_zone",
		"places.0.languages.1", "places.0.hours.0", "places.0.hours.1.day", "places.0.hours.2", "notes.ar"} {
		if errs[f].ID == "" {
			t.Errorf("%s: no error", f)
		}
	}
	if len(errs) != 17 {
		t.Errorf("%d errors, want 17: %v", len(errs), errs)
	}
	if out.Phones[0].Number != "call us" || out.RFLPage != "javascript:alert(1)" || out.Emails[2] != "nope" {
		t.Error("what was typed must come back as typed")
	}
}

// TestNotesAreSanitised: a note's Markdown may carry paragraphs, lists,
// emphasis and links; nothing else survives, and links open with
// rel="noopener noreferrer".
func TestNotesAreSanitised(t *testing.T) {
	hostile := []string{
		"<script>alert(1)</script>", `<img src=x onerror=alert(1)>`, "![photo](https://evil.example/x.png)",
		"[click](javascript:alert(1))", "[data](data:text/html;base64,PHNjcmlwdD4=)", `<a href="https://x.example" onclick="x()" style="color:red">x</a>`,
		`<iframe src="https://evil.example"></iframe>`, `<style>body{display:none}</style>`, "<form action=https://evil.example><input></form>",
		"[x](https://ok.example \"title\")", `<p class="x" id="y">z</p>`, "<svg onload=alert(1)>", "&lt;script&gt;",
	}
	for _, md := range hostile {
		h, err := RenderNote(md)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ToLower(string(h))
		for _, bad := range []string{"<script", "<img", "<iframe", "<style", "<form", "<input", "<svg", "javascript:", "data:", "onerror", "onclick", "onload", "style=", "class=", "id=", "title="} {
			if strings.Contains(s, bad) {
				t.Errorf("%q rendered %q, which keeps %q", md, h, bad)
			}
		}
	}
	h, _ := RenderNote("Open *Monday* to **Friday**.\n\n- bring an ID\n- [our form](https://drk.example/suchdienst) or [call](tel:+49308540400)")
	for _, want := range []string{"<em>Monday</em>", "<strong>Friday</strong>", "<li>bring an ID</li>",
		`<a href="https://drk.example/suchdienst" rel="noopener noreferrer">our form</a>`, `<a href="tel:+49308540400" rel="noopener noreferrer">call</a>`} {
		if !strings.Contains(string(h), want) {
			t.Errorf("rendered %q lacks %q", h, want)
		}
	}
}

// TestExamplesAreValidAndSayTheyAreExamples: the example drafts that `make
// run` seeds pass validation (so the back office can re-save them), say
// they are examples, and Panama's holds nothing beyond its source.
func TestExamplesAreValidAndSayTheyAreExamples(t *testing.T) {
	langs := []string{"en", "fr", "es", "ar", "prs", "ps", "so", "ru", "uk", "ti"}
	for society, c := range Examples {
		if _, errs := Validate(c, society, langs); len(errs) > 0 {
			t.Errorf("%s: %v", society, errs)
		}
		if !strings.HasPrefix(c.Notes["en"], "EXAMPLE") {
			t.Errorf("%s: the note does not start by saying it is an example", society)
		}
	}
	pa := Examples["pa"]
	if len(pa.Phones)+len(pa.Emails)+len(pa.Places) != 0 || pa.Desk != nil || pa.RFLPage != "" || pa.Form != "" {
		t.Error("Panama's example holds details its source does not give")
	}
}

// TestDiffNamesEachChangedField: a changed number, an added place's hours
// and a removed e-mail are each one line; what did not change is not.
func TestDiffNamesEachChangedField(t *testing.T) {
	before := []byte(`{"phones":[{"number":"+4930854040","voice":true}],"emails":["a@drk.example"],"desk":{"en":"Tracing"}}`)
	after := []byte(`{"phones":[{"number":"+4930854041","voice":true}],"desk":{"en":"Tracing"},"places":[{"name":"Berlin","hours":[{"day":1,"open":"09:00","close":"16:00"}]}]}`)
	got := Diff(before, after)
	want := []Change{
		{"emails.0", "a@drk.example", ""},
		{"phones.0.number", "+4930854040", "+4930854041"},
		{"places.0.hours.0.close", "", "16:00"},
		{"places.0.hours.0.day", "", "1"},
		{"places.0.hours.0.open", "", "09:00"},
		{"places.0.name", "", "Berlin"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Diff = %v\nwant %v", got, want)
	}
	if d := Diff(before, before); len(d) != 0 {
		t.Errorf("a version differs from itself: %v", d)
	}
}

// TestEveryProblemIsAStaffMessage: the problems Validate can find are
// exactly the StaffCardErr… messages of the back office's catalogue, and
// each reads as a sentence (its numbers filled in) in every language the
// back office speaks, so that no page editor meets a bare message ID.
func TestEveryProblemIsAStaffMessage(t *testing.T) {
	long := strings.Repeat("x", MaxText+1)
	many := make([]string, MaxRepeated+1)
	for i := range many {
		many[i] = "a@b.example"
	}
	seen := map[string]Problem{}
	for _, c := range []Card{
		{Desk: map[string]string{"xx": "?", "en": long}, Notes: map[string]string{"en": "a\x01b"}, Emails: many},
		{Services: []Offer{{Service: "teleportation"}, {Service: "tracing"}, {Service: "tracing"}}},
		{Phones: []Phone{{Number: "call us", Voice: true}, {Number: "+41 22 730 21 11"}}, Emails: []string{"nope"}, RFLPage: "ftp://x.example"},
		{Places: []Place{{TimeZone: "Mars/Olympus", Languages: []string{"not a tag"},
			Hours: []Hours{{Day: 9, Open: "09:00", Close: "17:00"}, {Day: time.Monday, Open: "9", Close: "17:00"}, {Day: time.Tuesday, Open: "10:00", Close: "09:00"}}}}},
	} {
		_, errs := Validate(c, "de", langs)
		for _, p := range errs {
			seen[p.ID] = p
		}
	}
	var en map[string]any
	if _, err := toml.DecodeFile("../../locales/staff.en.toml", &en); err != nil {
		t.Fatal(err)
	}
	for id := range en {
		if _, ok := seen[id]; strings.HasPrefix(id, "StaffCardErr") && !ok {
			t.Errorf("%s: Validate never finds it (or the test lacks a card that has it)", id)
		}
	}
	cat, err := locales.Load(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for id, p := range seen {
		if _, ok := en[id]; !ok {
			t.Errorf("%s is not a message of staff.en.toml", id)
			continue
		}
		for _, l := range cat.StaffLanguages() {
			s := cat.Translator(l.Code).T(p.ID, p.Args...)
			if s == id || strings.Contains(s, "<no value>") || strings.Contains(s, "{{") {
				t.Errorf("%s in %s: %q", id, l.Code, s)
			}
		}
	}
	if s := cat.Translator("en").T(ErrTooLong, seen[ErrTooLong].Args...); s != "at most 200 characters" {
		t.Errorf("the limit is not filled in: %q", s)
	}
}
