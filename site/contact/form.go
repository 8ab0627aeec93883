package contact

import (
	"github.com/familylinks/familylinks/site/web"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/site/store"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// Limits of the form's plain-text fields, in characters.
const (
	MaxName    = 200
	MaxPlace   = 200
	MaxWhen    = 100
	MaxEmail   = 254
	MaxMessage = web.MaxMessage
)

// Form is what the person typed, kept exactly as typed so that a form
// with errors comes back whole.
type Form struct {
	Residence    string
	Name         string
	Email        string
	Phone        string
	Lang         string
	SoughtName   string
	SoughtAge    string
	SoughtPlace  string
	LostWhen     string
	Relationship string
	Circumstance string
	Message      string
	Consent      bool
	Honeypot     string
	// About is the reference of a Trace the Face photo when the person
	// has information about it; the sought-person fields are then unused.
	About string
}

// Personal returns the form's personal data.
func (f Form) Personal() store.Personal {
	return store.Personal{Name: f.Name, Email: f.Email, Phone: f.Phone, SoughtName: f.SoughtName, SoughtAge: f.SoughtAge,
		SoughtPlace: f.SoughtPlace, LostWhen: f.LostWhen, Message: f.Message}
}

func readForm(c *fiber.Ctx) Form {
	v := func(k string) string { return utils.CopyString(c.FormValue(k)) }
	return Form{
		Residence: strings.ToLower(strings.TrimSpace(v("residence"))), Name: v("name"), Email: v("email"), Phone: v("phone"),
		Lang: v("lang"), SoughtName: v("sought_name"), SoughtAge: v("sought_age"), SoughtPlace: v("sought_place"),
		LostWhen: v("lost_when"), Relationship: v("relationship"), Circumstance: v("circumstance"), Message: v("message"),
		Consent: c.FormValue("consent") == "yes", Honeypot: v("website"), About: v("about"),
	}
}

// FieldError is one field's problem: a message ID and its template data.
type FieldError struct {
	ID   string
	Args []any
}

var phonePattern = regexp.MustCompile(`^\+?[0-9 ().-]{6,40}$`)

// validate checks the form; it returns the problems by field name.
// known reports whether a country code is one the site covers, and langs
// whether a language code is offered.
func (f Form) validate(known, lang func(string) bool) map[string]FieldError {
	errs := map[string]FieldError{}
	text := func(field, value string, max int, required, multiline bool) {
		switch {
		case strings.TrimSpace(value) == "":
			if required {
				errs[field] = FieldError{ID: "ErrRequired"}
			}
		case !utf8.ValidString(value) || hasControl(value, multiline):
			errs[field] = FieldError{ID: "ErrBadText"}
		case utf8.RuneCountInString(value) > max:
			errs[field] = FieldError{ID: "ErrTooLong", Args: []any{"Max", max}}
		}
	}
	if f.Residence == "" || !known(f.Residence) {
		errs["residence"] = FieldError{ID: "ErrCountry"}
	}
	text("name", f.Name, MaxName, true, false)
	text("email", f.Email, MaxEmail, false, false)
	text("phone", f.Phone, 40, false, false)
	if _, bad := errs["email"]; !bad && strings.TrimSpace(f.Email) != "" {
		if a, err := mail.ParseAddress(strings.TrimSpace(f.Email)); err != nil || a.Address != strings.TrimSpace(f.Email) || !strings.Contains(a.Address, ".") {
			errs["email"] = FieldError{ID: "ErrEmail"}
		}
	}
	if _, bad := errs["phone"]; !bad && strings.TrimSpace(f.Phone) != "" && !phonePattern.MatchString(asciiDigits(strings.TrimSpace(f.Phone))) {
		errs["phone"] = FieldError{ID: "ErrPhone"}
	}
	if strings.TrimSpace(f.Email) == "" && strings.TrimSpace(f.Phone) == "" {
		errs["reach"] = FieldError{ID: "ErrReach"}
	}
	if !lang(f.Lang) {
		errs["lang"] = FieldError{ID: "ErrChoose"}
	}
	if f.About != "" {
		// Information about a gallery photo: who writes, and what they know.
		text("message", f.Message, MaxMessage, true, true)
		if !f.Consent {
			errs["consent"] = FieldError{ID: "ErrConsent"}
		}
		return errs
	}
	text("sought_name", f.SoughtName, MaxName, true, false)
	if a := strings.TrimSpace(f.SoughtAge); a != "" {
		if n, err := strconv.Atoi(asciiDigits(a)); err != nil || n < 0 || n > 120 {
			errs["sought_age"] = FieldError{ID: "ErrAge"}
		}
	}
	text("sought_place", f.SoughtPlace, MaxPlace, false, false)
	text("lost_when", f.LostWhen, MaxWhen, false, false)
	if !vocab.Relationships.Has(f.Relationship) {
		errs["relationship"] = FieldError{ID: "ErrChoose"}
	}
	if !vocab.Circumstances.Has(f.Circumstance) {
		errs["circumstance"] = FieldError{ID: "ErrChoose"}
	}
	text("message", f.Message, MaxMessage, false, true)
	if !f.Consent {
		errs["consent"] = FieldError{ID: "ErrConsent"}
	}
	return errs
}

// hasControl reports control characters; a multi-line field may hold line
// breaks and tabs.
func hasControl(s string, multiline bool) bool {
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// asciiDigits turns every decimal digit (Arabic-Indic ٤٥, Persian ۴۵,
// Ethiopic-script users' ASCII…) into 0-9, for validation only: the value
// is stored as typed.
func asciiDigits(s string) string {
	return strings.Map(func(r rune) rune {
		if r > '9' && unicode.IsDigit(r) {
			for base := r; base >= r-9; base-- {
				if !unicode.IsDigit(base - 1) {
					return '0' + (r - base)
				}
			}
		}
		return r
	}, s)
}
