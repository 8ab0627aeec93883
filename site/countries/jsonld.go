package countries

import (
	"encoding/json"
	"html/template"
	"strings"

	"github.com/familylinks/familylinks/site/cards"
)

// schema.org types, as JSON-LD: the Society that helps in a place as an
// NGO, its published card as ContactPoints and Places with their opening
// hours. Only what the page shows goes in.
type ldNGO struct {
	Context      string      `json:"@context"`
	Type         string      `json:"@type"`
	Name         string      `json:"name"`
	URL          string      `json:"url,omitempty"`
	SameAs       []string    `json:"sameAs,omitempty"`
	AreaServed   ldCountry   `json:"areaServed"`
	ContactPoint []ldContact `json:"contactPoint,omitempty"`
	Location     []ldPlace   `json:"location,omitempty"`
}

type ldCountry struct {
	Type string `json:"@type"`
	Name string `json:"name"`
}

type ldContact struct {
	Type              string   `json:"@type"`
	ContactType       string   `json:"contactType"`
	Name              string   `json:"name,omitempty"`
	Telephone         string   `json:"telephone,omitempty"`
	Email             string   `json:"email,omitempty"`
	URL               string   `json:"url,omitempty"`
	ContactOption     string   `json:"contactOption,omitempty"`
	AvailableLanguage []string `json:"availableLanguage,omitempty"`
}

type ldPlace struct {
	Type    string    `json:"@type"`
	Name    string    `json:"name"`
	Address ldAddress `json:"address"`
	Hours   []ldHours `json:"openingHoursSpecification,omitempty"`
}

type ldAddress struct {
	Type     string `json:"@type"`
	Street   string `json:"streetAddress"`
	Locality string `json:"addressLocality,omitempty"`
	Country  string `json:"addressCountry"`
}

type ldHours struct {
	Type   string `json:"@type"`
	Day    string `json:"dayOfWeek"`
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

// contactType is what every contact point of a card is for.
const contactType = "Restoring Family Links"

// jsonLD describes the Society shown on p (its own or the one that helps
// there) and, with card, its published card. It is empty when no Society
// helps in the place.
func jsonLD(p *ShowPage, card *cards.Public) template.JS {
	org, name := p.Society, p.SocietyName
	if !org.Active() {
		org, name = p.Helper, p.HelperName
	}
	if !org.Active() {
		return ""
	}
	d := ldNGO{Context: "https://schema.org", Type: "NGO", Name: name, URL: p.Website,
		AreaServed: ldCountry{Type: "Country", Name: p.Name}}
	if org.IFRCURL != "" {
		d.SameAs = []string{org.IFRCURL}
	}
	if card != nil {
		c := card.Card
		desk := ""
		if p.Card != nil {
			desk = p.Card.Desk
		}
		for _, ph := range c.Phones {
			cp := ldContact{Type: "ContactPoint", ContactType: contactType, Name: desk, Telephone: ph.Number}
			if ph.Free {
				cp.ContactOption = "TollFree"
			}
			d.ContactPoint = append(d.ContactPoint, cp)
		}
		for _, e := range c.Emails {
			d.ContactPoint = append(d.ContactPoint, ldContact{Type: "ContactPoint", ContactType: contactType, Name: desk, Email: e})
		}
		for _, u := range []string{c.RFLPage, c.Form} {
			if u != "" {
				d.ContactPoint = append(d.ContactPoint, ldContact{Type: "ContactPoint", ContactType: contactType, Name: desk, URL: u})
			}
		}
		for _, pl := range c.Places {
			lp := ldPlace{Type: "Place", Name: pl.Name,
				Address: ldAddress{Type: "PostalAddress", Street: pl.Address, Locality: pl.City, Country: strings.ToUpper(p.ISO2)}}
			for _, h := range pl.Hours {
				lp.Hours = append(lp.Hours, ldHours{Type: "OpeningHoursSpecification", Day: "https://schema.org/" + h.Day.String(), Opens: h.Open, Closes: h.Close})
			}
			d.Location = append(d.Location, lp)
		}
	}
	// encoding/json writes <, > and & as \u escapes: the text cannot close
	// the script element it sits in.
	b, err := json.Marshal(d)
	if err != nil {
		return ""
	}
	return template.JS(b) // #nosec: JSON with <, >, & escaped
}
