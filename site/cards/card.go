// Package cards is a National Society's family-links contact card: what
// its staff keep in the back office and what its country page shows once a
// second person has published it. This file holds the card and its
// validation; markdown.go turns its notes into safe HTML.
package cards

import (
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // opening hours name IANA zones; the release image has no zoneinfo

	"github.com/nyaruka/phonenumbers"

	"github.com/familylinks/familylinks/content/vocab"
)

// Limits on what one card may hold, so that a card stays a card.
const (
	MaxText     = 200  // a name, a label, an address line
	MaxNote     = 4000 // a note, in Markdown, per language
	MaxRepeated = 10   // phones, e-mails, places, services notes
)

// Card is one version of a Society's card, as staff typed it (phone
// numbers normalised to E.164 by Validate).
type Card struct {
	// Desk is the name of the Society's tracing / family-links service,
	// per language code of the site ("en", "ar"…).
	Desk     map[string]string `json:"desk,omitempty"`
	Services []Offer           `json:"services,omitempty"`
	Phones   []Phone           `json:"phones,omitempty"`
	Emails   []string          `json:"emails,omitempty"`
	// RFLPage is the family-links page of the Society's website; Form an
	// online tracing form.
	RFLPage string  `json:"rfl_page,omitempty"`
	Form    string  `json:"form,omitempty"`
	Places  []Place `json:"places,omitempty"`
	// Notes are free text per language, in Markdown; the HTML shown is
	// rendered and sanitised when the card is published.
	Notes map[string]string `json:"notes,omitempty"`
}

// Offer is one of the network's services that the Society offers, with an
// optional short note ("calls at the Lajas Blancas reception centre").
type Offer struct {
	Service string `json:"service"`
	Note    string `json:"note,omitempty"`
}

// Phone is a number and how it can be used.
type Phone struct {
	Number   string `json:"number"` // E.164 once validated
	Label    string `json:"label,omitempty"`
	Voice    bool   `json:"voice,omitempty"`
	SMS      bool   `json:"sms,omitempty"`
	WhatsApp bool   `json:"whatsapp,omitempty"`
	Free     bool   `json:"free,omitempty"` // free of charge for the caller
}

// Place is somewhere a person can walk in.
type Place struct {
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	City      string   `json:"city"`
	TimeZone  string   `json:"time_zone"` // IANA, for example "America/Panama"
	Hours     []Hours  `json:"hours,omitempty"`
	Languages []string `json:"languages,omitempty"` // BCP 47 tags
	Access    string   `json:"access,omitempty"`    // accessibility note
}

// Hours is one opening span on one weekday (0 = Sunday, as time.Weekday).
type Hours struct {
	Day   time.Weekday `json:"day"`
	Open  string       `json:"open"`  // HH:MM
	Close string       `json:"close"` // HH:MM, after Open
}

// Errors maps a field path ("phones.0.number") to what is wrong with it.
type Errors map[string]Problem

// Problem is what is wrong with a field, as a message of the back office's
// catalogue (locales/staff.*.toml) for the caller to translate: the
// editor in its reader's language, the directory import in English.
type Problem struct {
	ID   string // message ID, StaffCardErr…
	Args []any  // its template-data pairs, as Translator.T takes them
}

// The problems Validate finds, by message ID.
const (
	ErrTooLong        = "StaffCardErrTooLong"     // Args: "Max"
	ErrControl        = "StaffCardErrControl"     // control characters
	ErrNotSiteLang    = "StaffCardErrNotSiteLang" // a desk name or note in a language the site does not have
	ErrTooMany        = "StaffCardErrTooMany"     // Args: "Max"
	ErrService        = "StaffCardErrService"
	ErrServiceTwice   = "StaffCardErrServiceTwice"
	ErrPhone          = "StaffCardErrPhone"
	ErrPhoneUse       = "StaffCardErrPhoneUse"
	ErrEmail          = "StaffCardErrEmail"
	ErrURL            = "StaffCardErrURL"
	ErrPlaceName      = "StaffCardErrPlaceName"
	ErrPlaceAddress   = "StaffCardErrPlaceAddress"
	ErrTimeZone       = "StaffCardErrTimeZone"
	ErrWeekday        = "StaffCardErrWeekday"
	ErrHHMM           = "StaffCardErrHHMM"
	ErrCloseAfterOpen = "StaffCardErrCloseAfterOpen"
	ErrLangTag        = "StaffCardErrLangTag"
)

var hhmm = regexp.MustCompile(`^([01]\d|2[0-3]):[0-5]\d$`)

// Validate checks a card typed for the Society of country (lower-case ISO
// code, the default region of phone numbers written without +), normalises
// its phone numbers to E.164 and trims its text. It returns the card as it
// would be stored and every problem found; nothing typed is dropped.
func Validate(c Card, country string, langs []string) (Card, Errors) {
	errs := Errors{}
	bad := func(field, id string, args ...any) {
		if _, seen := errs[field]; !seen {
			errs[field] = Problem{ID: id, Args: args}
		}
	}
	text := func(field, s string, max int) string {
		s = strings.TrimSpace(s)
		if len([]rune(s)) > max {
			bad(field, ErrTooLong, "Max", max)
		}
		if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }) {
			bad(field, ErrControl)
		}
		return s
	}
	perLang := func(field string, m map[string]string, max int) map[string]string {
		out := map[string]string{}
		for l, s := range m {
			if !slices.Contains(langs, l) {
				bad(field+"."+l, ErrNotSiteLang)
				continue
			}
			if s = text(field+"."+l, s, max); s != "" {
				out[l] = s
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	c.Desk = perLang("desk", c.Desk, MaxText)
	c.Notes = perLang("notes", c.Notes, MaxNote)
	many := func(field string, n int) {
		if n > MaxRepeated {
			bad(field, ErrTooMany, "Max", MaxRepeated)
		}
	}
	many("services", len(c.Services))
	many("phones", len(c.Phones))
	many("emails", len(c.Emails))
	many("places", len(c.Places))

	seen := map[string]bool{}
	for i, o := range c.Services {
		f := fmt.Sprintf("services.%d", i)
		if !vocab.Services.Has(o.Service) {
			bad(f+".service", ErrService)
		} else if seen[o.Service] {
			bad(f+".service", ErrServiceTwice)
		}
		seen[o.Service] = true
		c.Services[i].Note = text(f+".note", o.Note, MaxText)
	}
	for i, p := range c.Phones {
		f := fmt.Sprintf("phones.%d", i)
		c.Phones[i].Label = text(f+".label", p.Label, MaxText)
		num, err := phonenumbers.Parse(strings.TrimSpace(p.Number), strings.ToUpper(country))
		if err != nil || !phonenumbers.IsValidNumber(num) {
			bad(f+".number", ErrPhone)
			continue
		}
		c.Phones[i].Number = phonenumbers.Format(num, phonenumbers.E164)
		if !p.Voice && !p.SMS && !p.WhatsApp {
			bad(f+".use", ErrPhoneUse)
		}
	}
	for i, e := range c.Emails {
		f := fmt.Sprintf("emails.%d", i)
		e = strings.TrimSpace(e)
		c.Emails[i] = e
		if a, err := mail.ParseAddress(e); err != nil || a.Address != e || a.Name != "" {
			bad(f, ErrEmail)
		}
	}
	c.RFLPage = checkURL(bad, "rfl_page", c.RFLPage)
	c.Form = checkURL(bad, "form", c.Form)
	for i, pl := range c.Places {
		f := fmt.Sprintf("places.%d", i)
		c.Places[i].Name = text(f+".name", pl.Name, MaxText)
		c.Places[i].Address = text(f+".address", pl.Address, MaxText)
		c.Places[i].City = text(f+".city", pl.City, MaxText)
		c.Places[i].Access = text(f+".access", pl.Access, MaxText)
		if c.Places[i].Name == "" {
			bad(f+".name", ErrPlaceName)
		}
		if c.Places[i].Address == "" {
			bad(f+".address", ErrPlaceAddress)
		}
		if _, err := time.LoadLocation(pl.TimeZone); err != nil || pl.TimeZone == "" || pl.TimeZone == "Local" {
			bad(f+".time_zone", ErrTimeZone)
		}
		for j, h := range pl.Hours {
			hf := fmt.Sprintf("%s.hours.%d", f, j)
			switch {
			case h.Day < time.Sunday || h.Day > time.Saturday:
				bad(hf+".day", ErrWeekday)
			case !hhmm.MatchString(h.Open) || !hhmm.MatchString(h.Close):
				bad(hf, ErrHHMM)
			case h.Close <= h.Open:
				bad(hf, ErrCloseAfterOpen)
			}
		}
		for j, tag := range pl.Languages {
			if !langTag.MatchString(tag) {
				bad(fmt.Sprintf("%s.languages.%d", f, j), ErrLangTag)
			}
		}
	}
	if len(errs) == 0 {
		errs = nil
	}
	return c, errs
}

var langTag = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

func checkURL(bad func(field, id string, args ...any), field, raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || !strings.Contains(u.Hostname(), ".") || u.User != nil {
		bad(field, ErrURL)
	}
	return raw
}

// Empty reports whether the card says nothing a person could act on.
func (c Card) Empty() bool {
	return len(c.Phones) == 0 && len(c.Emails) == 0 && c.RFLPage == "" && c.Form == "" && len(c.Places) == 0 && len(c.Services) == 0
}
