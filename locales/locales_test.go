package locales

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/content"
)

func load(t *testing.T) *Catalog {
	t.Helper()
	c, err := Load(slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// TestCatalogComplete fails when any language lacks a message, a plural form
// or a country name, or changes a placeholder.
func TestCatalogComplete(t *testing.T) {
	d, err := content.Load()
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, c := range d.Countries {
		codes = append(codes, c.ISO2)
	}
	if err := load(t).Check(codes); err != nil {
		for _, e := range strings.Split(err.Error(), "\n") {
			t.Error(e)
		}
	}
}

func TestCheckFindsGaps(t *testing.T) {
	c := load(t)
	// A country code no language can name must be reported.
	if err := c.Check([]string{"qq"}); err == nil || !strings.Contains(err.Error(), "no name for country qq") {
		t.Fatalf("want a missing country name reported, got %v", err)
	}
	// A message missing from one language must be reported.
	delete(c.raw["so"], "HomeTitle")
	if err := c.Check(nil); err == nil || !strings.Contains(err.Error(), "so: message HomeTitle missing") {
		t.Fatalf("want the missing Somali message reported, got %v", err)
	}
	// A lost placeholder must be reported.
	c.raw["fr"]["CountryTitle"] = "Liens familiaux"
	if err := c.Check(nil); err == nil || !strings.Contains(err.Error(), "fr: message CountryTitle has placeholders") {
		t.Fatalf("want the lost placeholder reported, got %v", err)
	}
}

func TestPluralForms(t *testing.T) {
	c := load(t)
	tests := []struct {
		lang string
		n    int
		want string
	}{
		{"en", 1, "1 country"},
		{"en", 7, "7 countries"},
		{"ru", 1, "1 страна"},
		{"ru", 3, "3 страны"},
		{"ru", 5, "5 стран"},
		{"ru", 21, "21 страна"},
		{"uk", 2, "2 країни"},
		{"uk", 11, "11 країн"},
	}
	for _, tt := range tests {
		if got := c.Translator(tt.lang).N("CountriesCount", tt.n); got != tt.want {
			t.Errorf("%s %d: got %q, want %q", tt.lang, tt.n, got, tt.want)
		}
	}
	// Arabic has six forms; 0, 1, 2, 3, 11 and 100 each take a different one.
	seen := map[string]bool{}
	for _, n := range []int{0, 1, 2, 3, 11, 100} {
		seen[c.Translator("ar").N("CountriesCount", n)] = true
	}
	if len(seen) != 6 {
		t.Errorf("Arabic plural: want 6 distinct strings for 0,1,2,3,11,100, got %d", len(seen))
	}
}

func TestNegotiate(t *testing.T) {
	c := load(t)
	tests := []struct {
		name, cookie, accept, want string
	}{
		{"nothing", "", "", "en"},
		{"accept arabic", "", "ar-SY,ar;q=0.9,en;q=0.5", "ar"},
		{"cookie wins over header", "so", "ar", "so"},
		{"bad cookie ignored", "xx", "uk-UA,uk;q=0.9", "uk"},
		{"dari by region", "", "fa-AF", "prs"},
		{"persian gets dari", "", "fa-IR,fa;q=0.9", "prs"},
		{"pashto", "", "ps-AF", "ps"},
		{"tigrinya", "", "ti-ER", "ti"},
		{"order by quality", "", "de;q=0.9,fr;q=0.8,es;q=0.7", "fr"},
		{"unsupported only", "", "de-DE,de;q=0.9", "en"},
		{"garbage header", "", ";;;,,q=", "en"},
		{"french canadian", "", "fr-CA", "fr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Negotiate(tt.cookie, tt.accept).Code; got != tt.want {
				t.Fatalf("Negotiate(%q, %q) = %s, want %s", tt.cookie, tt.accept, got, tt.want)
			}
		})
	}
}

func TestCountryNames(t *testing.T) {
	c := load(t)
	tests := []struct{ lang, iso, want string }{
		{"en", "sz", "Eswatini"},
		{"en", "mk", "North Macedonia"},
		{"en", "tr", "Türkiye"},
		{"en", "af", "Afghanistan"},
		{"ar", "af", "أفغانستان"},
		{"prs", "af", "افغانستان"},
		{"so", "ss", "Koonfur Suudaan"},
		{"fr", "de", "Allemagne"},
		{"ru", "de", "Германия"},
	}
	for _, tt := range tests {
		if got := c.Translator(tt.lang).Country(tt.iso); got != tt.want {
			t.Errorf("%s %s: got %q, want %q", tt.lang, tt.iso, got, tt.want)
		}
	}
}

func TestLanguages(t *testing.T) {
	c := load(t)
	rtl := map[string]bool{}
	for _, l := range c.Languages() {
		if l.Name == "" {
			t.Errorf("%s has no name for the switcher", l.Code)
		}
		if l.RTL {
			rtl[l.Code] = true
		}
	}
	if len(c.Languages()) != 10 || len(rtl) != 3 || !rtl["ar"] || !rtl["prs"] || !rtl["ps"] {
		t.Fatalf("want ten languages with ar, prs and ps right-to-left; got %d, rtl %v", len(c.Languages()), rtl)
	}
	if l, _ := c.Lookup("prs"); l.HrefLang() != "fa-AF" {
		t.Errorf("Dari hreflang = %q, want fa-AF", l.HrefLang())
	}
}

// TestConsentBothWays: every language says both halves of the consent rule,
// each in its own message; one left out, emptied, or made the same as the
// other is reported (the English once said only the relative's half, and
// five translations followed it).
func TestConsentBothWays(t *testing.T) {
	c := load(t)
	if err := c.Check(nil); err != nil {
		t.Fatal(err)
	}
	for _, l := range c.Languages() {
		a, b := c.raw[l.Code]["ConsentEnquirer"], c.raw[l.Code]["ConsentSought"]
		if a == nil || b == nil || a == b {
			t.Errorf("%s: consent sentences %q, %q", l.Code, a, b)
		}
	}
	c.raw["ar"]["ConsentSought"] = c.raw["ar"]["ConsentEnquirer"]
	if err := c.Check(nil); err == nil || !strings.Contains(err.Error(), "ar: ConsentEnquirer and ConsentSought are the same sentence") {
		t.Errorf("want the one-sided Arabic rule reported, got %v", err)
	}
	c.raw["ps"]["ConsentEnquirer"] = " "
	if err := c.Check(nil); err == nil || !strings.Contains(err.Error(), "ps: the consent rule lacks ConsentEnquirer") {
		t.Errorf("want the empty Pashto half reported, got %v", err)
	}
}

// TestReferenceIsNotANumber: a reference (FL-4FXH-95YK-5FPR, TTF-7Q4K2)
// has letters; a language that calls it a number sends people looking for
// digits. The messages about references must not use the word for a
// number (a phone number may keep it).
func TestReferenceIsNotANumber(t *testing.T) {
	c := load(t)
	number := map[string]string{"ru": "номер", "uk": "номер", "so": "lambar", "ti": "ቁጽሪ", "prs": "شماره", "ps": "شمېره", "en": "number"}
	for _, id := range []string{"SentReference", "SentKeep", "SentNext2", "SentInfoKeep", "GallerySearchLabel", "PhotoTitle", "PhotoAlt", "PhotoReference"} {
		for code, word := range number {
			s, _ := c.raw[code][id].(string)
			if s == "" {
				t.Errorf("%s: %s missing", code, id)
			}
			if strings.Contains(strings.ToLower(s), word) {
				t.Errorf("%s: %s calls the reference a number: %q", code, id, s)
			}
		}
	}
}

// TestDraftsFromReadme: the review table in README.md is the one source of
// which languages are drafts; marking one reviewed there makes it so, and a
// language missing from the table is an error.
func TestDraftsFromReadme(t *testing.T) {
	c := load(t)
	for _, l := range c.Languages() {
		if l.Draft != (l.Code != "en") {
			t.Errorf("%s: draft %v; the README marks every language but English a draft", l.Code, l.Draft)
		}
	}
	reviewed := strings.Replace(readme, "| Arabic | `ar` | `ar` | rtl | **draft**, machine-assisted |", "| Arabic | `ar` | `ar` | rtl | reviewed by a native speaker |", 1)
	if reviewed == readme {
		t.Fatal("the Arabic row of the README's table has changed; update this test")
	}
	d, err := drafts(reviewed, Languages())
	if err != nil || d["ar"] || !d["fr"] {
		t.Errorf("Arabic marked reviewed: drafts %v %v", d, err)
	}
	var noSomali []string
	for _, line := range strings.Split(readme, "\n") {
		if !strings.Contains(line, "`so`") {
			noSomali = append(noSomali, line)
		}
	}
	if _, err := drafts(strings.Join(noSomali, "\n"), Languages()); err == nil {
		t.Error("a language missing from the review table must be an error")
	}
}

// TestDatesFollowTheLanguage holds dates to CLDR's long format in each
// language: no ISO string, the language's month name and digits.
func TestDatesFollowTheLanguage(t *testing.T) {
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := time.Date(2023, time.May, 9, 0, 0, 0, 0, time.UTC)
	want := map[string]string{
		"en":  "May 9, 2023",
		"fr":  "9 mai 2023",
		"es":  "9 de mayo de 2023",
		"ar":  "9 مايو 2023",
		"prs": "۹ می ۲۰۲۳",
		"ps":  "۲۰۲۳ مۍ ۹",
		"ru":  "9 мая 2023\u202fг.",
		"uk":  "9 травня 2023\u202fр.",
		"so":  "Maayo 9, 2023",
		"ti":  "ጉንበት 9, 2023",
	}
	for code, w := range want {
		if got := c.Translator(code).Date(d); got != w {
			t.Errorf("%s: %q, want %q", code, got, w)
		}
		if got := c.Translator(code).DateString("2023-05-09"); got != w {
			t.Errorf("%s: DateString %q, want %q", code, got, w)
		}
	}
}

// TestWeekdaysAndClockFollowTheLanguage: opening hours use CLDR's weekday
// names and short time format in each language, with its digits.
func TestWeekdaysAndClockFollowTheLanguage(t *testing.T) {
	c, err := Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][3]string{ // Monday, 09:00, 17:30
		"en":  {"Monday", "9:00\u202fAM", "5:30\u202fPM"},
		"fr":  {"lundi", "09:00", "17:30"},
		"ar":  {"الاثنين", "9:00 ص", "5:30 م"},
		"prs": {"دوشنبه", "۹:۰۰", "۱۷:۳۰"},
		"ps":  {"دونۍ", "۹:۰۰", "۱۷:۳۰"},
		"ti":  {"ሰኑይ", "9:00 ቅ.ቀ.", "5:30 ድ.ቀ."},
		"so":  {"Isniin", "9:00\u202fGH", "5:30\u202fGD"},
	}
	for code, w := range want {
		tr := c.Translator(code)
		got := [3]string{tr.Weekday(time.Monday), tr.Clock("09:00"), tr.Clock("17:30")}
		if got != w {
			t.Errorf("%s: %q, want %q", code, got, w)
		}
	}
	if got := c.Translator("en").Clock("25:00"); got != "25:00" {
		t.Errorf("a time that is not one must come back as it is, got %q", got)
	}
}

// TestStaffCheckFindsGaps: the completeness check holds the back office's
// catalogues to staff.en.toml: a missing key, a key English lacks, a lost
// placeholder and a missing plural form are each reported.
func TestStaffCheckFindsGaps(t *testing.T) {
	c := load(t)
	if err := c.Check(nil); err != nil {
		t.Fatalf("the catalogues as shipped: %v", err)
	}
	delete(c.staffRaw["ar"], "StaffSignIn")
	if err := c.Check(nil); err == nil || !strings.Contains(err.Error(), "ar: staff message StaffSignIn missing") {
		t.Fatalf("want the missing Arabic staff message reported, got %v", err)
	}
	c = load(t)
	c.staffRaw["es"]["StaffInvented"] = "algo"
	if err := c.Check(nil); err == nil || !strings.Contains(err.Error(), "es: staff message StaffInvented is not in English") {
		t.Fatalf("want the extra Spanish staff message reported, got %v", err)
	}
	c = load(t)
	c.staffRaw["fr"]["StaffTitleEnquiry"] = "Demande"
	if err := c.Check(nil); err == nil || !strings.Contains(err.Error(), "fr: message StaffTitleEnquiry has placeholders") {
		t.Fatalf("want the lost placeholder reported, got %v", err)
	}
	c = load(t)
	delete(c.staffRaw["ar"]["StaffTOTPOn"].(map[string]any), "two")
	if err := c.Check(nil); err == nil || !strings.Contains(err.Error(), `ar: message StaffTOTPOn lacks plural form "two"`) {
		t.Fatalf("want the missing Arabic plural form reported, got %v", err)
	}
}

// TestStaffLanguages: the back office speaks the languages with a staff
// catalogue, English first; the README's back-office table marks the
// drafts; before sign-in the cookie, then Accept-Language, decide.
func TestStaffLanguages(t *testing.T) {
	c := load(t)
	var codes []string
	for _, l := range c.StaffLanguages() {
		codes = append(codes, l.Code)
		if l.Draft != (l.Code != "en") {
			t.Errorf("%s: staff draft %v", l.Code, l.Draft)
		}
	}
	if strings.Join(codes, ",") != "en,fr,es,ar" {
		t.Errorf("staff languages %v", codes)
	}
	for _, tt := range []struct{ cookie, accept, want string }{
		{"", "", "en"},
		{"", "ar-SY,ar;q=0.9", "ar"},
		{"es", "ar", "es"},
		{"ru", "fr-CA,ru;q=0.9", "fr"}, // Russian has no staff catalogue
		{"", "de-DE", "en"},
	} {
		if got := c.NegotiateStaff(tt.cookie, tt.accept).Code; got != tt.want {
			t.Errorf("NegotiateStaff(%q, %q) = %s, want %s", tt.cookie, tt.accept, got, tt.want)
		}
	}
}
