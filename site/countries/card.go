package countries

import (
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"

	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/web"
)

// CardView is a Society's published card as its country page shows it, in
// the page's language: numbers written for people and for tel: links,
// weekday names and times from CLDR, today's hours marked.
type CardView struct {
	// Desk is the name of the family-links service; DeskLang its language
	// (BCP 47) when it is not the page's.
	Desk, DeskLang string
	Phones         []PhoneView
	Emails         []string
	RFLPage, Form  string
	Places         []PlaceView
	Offers         []OfferView
	// Note is the Society's note in the page language, else in English,
	// else in any language it wrote one in (NoteLang then says which).
	Note     template.HTML
	NoteLang string
	// Provided names the Society and the publication date; Confirmed is
	// the last confirmation when later; Stale says it is over a year old.
	Provided, Published, Confirmed, LastConfirmed string
	Stale                                         bool
}

// PhoneView is one number.
type PhoneView struct {
	Display  string // +507 512 4567
	Tel      string // +5075124567, for tel: and sms:
	WhatsApp string // https://wa.me/5075124567, when it takes WhatsApp
	Label    string
	Voice    bool
	SMS      bool
	Free     bool
}

// PlaceView is one walk-in place.
type PlaceView struct {
	Name, Address, City, Access string
	Days                        []DayView
	Languages                   []LangName
}

// DayView is one weekday's opening hours ("" when closed).
type DayView struct {
	Day   string
	Hours string
	Today bool
}

// LangName is a language spoken, named in the page's language where CLDR
// has the name, else in its own.
type LangName struct {
	Tag, Name string
}

// OfferView is a service the Society says it offers, with its note.
type OfferView struct {
	web.ServiceText
	Note string
}

// weekOrder lists the days Monday first.
var weekOrder = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

// cardView builds the view of p for a page in lang, at now.
func cardView(b web.Base, cat *locales.Catalog, tr *locales.Translator, p cards.Public, society string, now time.Time) *CardView {
	code := tr.Language().Code
	v := &CardView{
		Provided:  society,
		Published: tr.Date(p.Published),
		Stale:     p.Stale(now),
	}
	v.LastConfirmed = tr.Date(p.Confirmed)
	if !sameDay(p.Published, p.Confirmed) {
		v.Confirmed = tr.Date(p.Confirmed)
	}
	tag := func(code string) string {
		if l, ok := cat.Lookup(code); ok && code != "" {
			return l.Tag.String()
		}
		return ""
	}
	var note, deskLang, noteLang string
	v.Desk, deskLang = inLanguage(p.Card.Desk, code)
	note, noteLang = inLanguage(toStrings(p.NotesHTML), code)
	v.DeskLang, v.NoteLang = tag(deskLang), tag(noteLang)
	v.Note = template.HTML(note) // #nosec: sanitised at publish time (cards.RenderNote)
	for _, ph := range p.Card.Phones {
		pv := PhoneView{Display: ph.Number, Tel: ph.Number, Label: ph.Label, Voice: ph.Voice, SMS: ph.SMS, Free: ph.Free}
		if num, err := phonenumbers.Parse(ph.Number, ""); err == nil {
			pv.Display = phonenumbers.Format(num, phonenumbers.INTERNATIONAL)
		}
		if ph.WhatsApp {
			pv.WhatsApp = "https://wa.me/" + strings.TrimPrefix(ph.Number, "+")
		}
		v.Phones = append(v.Phones, pv)
	}
	v.Emails = p.Card.Emails
	v.RFLPage, v.Form = p.Card.RFLPage, p.Card.Form
	names := display.Tags(tr.Language().Tag)
	for i, pl := range p.Card.Places {
		pv := PlaceView{Name: pl.Name, Address: pl.Address, City: pl.City, Access: pl.Access}
		today := time.Weekday(-1)
		if i < len(p.Zones) && p.Zones[i] != nil {
			today = now.In(p.Zones[i]).Weekday()
		}
		for _, d := range weekOrder {
			var spans []string
			for _, h := range pl.Hours {
				if h.Day == d {
					spans = append(spans, tr.Clock(h.Open)+"–"+tr.Clock(h.Close))
				}
			}
			if len(pl.Hours) > 0 {
				pv.Days = append(pv.Days, DayView{Day: tr.Weekday(d), Hours: strings.Join(spans, tr.T("ListComma")), Today: d == today})
			}
		}
		for _, t := range pl.Languages {
			tag, err := language.Parse(t)
			if err != nil {
				continue
			}
			n := names.Name(tag)
			if n == "" {
				n = display.Self.Name(tag)
			}
			if n == "" {
				n = t
			}
			pv.Languages = append(pv.Languages, LangName{Tag: t, Name: n})
		}
		v.Places = append(v.Places, pv)
	}
	for _, o := range p.Card.Services {
		ts := b.ServiceTexts([]string{o.Service})
		if len(ts) == 1 {
			v.Offers = append(v.Offers, OfferView{ServiceText: ts[0], Note: o.Note})
		}
	}
	return v
}

// todayKey is what the page's highlighted day depends on: each place's
// weekday now, in its own time zone.
func todayKey(p cards.Public, now time.Time) string {
	var b []byte
	for i, pl := range p.Card.Places {
		if i < len(p.Zones) && p.Zones[i] != nil && len(pl.Hours) > 0 {
			b = append(b, byte('0'+now.In(p.Zones[i]).Weekday()))
		}
	}
	return string(b)
}

// inLanguage picks the text in lang, else English, else the first
// language in the site's order that has one; it returns that language when
// it is not lang.
func inLanguage(m map[string]string, lang string) (string, string) {
	if s := m[lang]; s != "" {
		return s, ""
	}
	if s := m["en"]; s != "" {
		return s, "en"
	}
	for _, l := range []string{"fr", "es", "ar", "prs", "ps", "so", "ru", "uk", "ti"} {
		if s := m[l]; s != "" {
			return s, l
		}
	}
	return "", ""
}

func toStrings(m map[string]template.HTML) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func sameDay(a, b time.Time) bool {
	ay, am, ad := a.UTC().Date()
	by, bm, bd := b.UTC().Date()
	return ay == by && am == bm && ad == bd
}

// Host shows a link's host without "www.", for a button's label.
func (v *CardView) Host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.TrimPrefix(u.Host, "www.")
}
