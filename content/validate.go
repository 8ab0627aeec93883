package content

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// ICRCWhereWeWork is the ICRC's own list of its delegations. It is the way to
// the ICRC for any country whose covering delegation no source names. The
// address is the one the IFRC Secretariat's data tools read the ICRC's
// presence from (IFRC-National-Society-Data, icrc_presence_dataset.py).
const ICRCWhereWeWork = "https://www.icrc.org/en/where-we-work"

var (
	iso2Pattern  = regexp.MustCompile(`^[a-z]{2}$`)
	ifrcIDFormat = regexp.MustCompile(`^D[A-Z]{2}\d{3}$`)
	phoneFormat  = regexp.MustCompile(`^\+?[0-9 ()./-]{6,40}$`)
	// delegationInbox is the form of an ICRC delegation's inbox code.
	delegationInbox = regexp.MustCompile(`^icrc-[a-z0-9-]{2,40}$`)
)

// Validate checks the whole data set and returns every problem it finds,
// joined, so that one run of `familylinks check` lists them all.
func (d *Data) Validate() error {
	var errs []error
	bad := func(where, format string, args ...any) {
		errs = append(errs, fmt.Errorf("content: %s: "+format, append([]any{where}, args...)...))
	}
	if len(d.Countries) == 0 {
		return errors.New("content: no countries")
	}
	for key, s := range d.Sources {
		if strings.TrimSpace(s.Title) == "" {
			bad("source "+key, "has no title")
		}
		if s.URL == "" && s.Date == "" {
			bad("source "+key, "has neither an address nor a date")
		}
		if s.URL != "" {
			if err := checkURL(s.URL); err != nil {
				bad("source "+key, "url: %v", err)
			}
		}
		if s.Date != "" {
			if _, err := time.Parse(time.DateOnly, s.Date); err != nil {
				bad("source "+key, "date %q is not YYYY-MM-DD", s.Date)
			}
		}
	}
	checkSources := func(where string, keys []string) {
		if len(keys) == 0 {
			bad(where, "cites no source")
		}
		for _, k := range keys {
			if _, ok := d.Sources[k]; !ok {
				bad(where, "cites unknown source %q", k)
			}
		}
	}
	regions := map[Region]bool{}
	for _, r := range Regions() {
		regions[r] = true
	}
	services := map[Service]bool{}
	for _, s := range Services() {
		services[s] = true
	}
	seen := map[string]bool{}
	ids := map[string]string{}
	today := time.Now().UTC()
	for _, c := range d.Countries {
		where := "country " + c.ISO2
		if !iso2Pattern.MatchString(c.ISO2) {
			bad(where, "code must be two lower-case letters")
		} else if r, err := language.ParseRegion(c.ISO2); err != nil || !r.IsCountry() {
			bad(where, "not an ISO 3166-1 country code")
		}
		if seen[c.ISO2] {
			bad(where, "appears twice")
		}
		seen[c.ISO2] = true
		if strings.TrimSpace(c.NameEN) == "" {
			bad(where, "has no English name")
		}
		if !regions[c.Region] {
			bad(where, "unknown region %q", c.Region)
		}
		checkSources(where, c.Sources)
		if v, err := time.Parse(time.DateOnly, c.LastVerified); err != nil {
			bad(where, "last_verified %q is not a date (YYYY-MM-DD)", c.LastVerified)
		} else if v.After(today.Add(24 * time.Hour)) {
			bad(where, "last_verified %s is in the future", c.LastVerified)
		}
		if dl := c.ICRCDelegation; dl != nil {
			if strings.TrimSpace(dl.Name) == "" {
				bad(where, "ICRC delegation has no name")
			}
			if !delegationInbox.MatchString(dl.Inbox) {
				bad(where, "ICRC delegation inbox %q is not icrc-<slug>", dl.Inbox)
			}
			if dl.URL != "" {
				if err := checkURL(dl.URL); err != nil {
					bad(where, "ICRC delegation url: %v", err)
				}
			}
			checkSources(where+" ICRC delegation", dl.Sources)
		}
		if cv := c.CoveredBy; cv != nil {
			o, ok := d.Country(cv.Society)
			switch {
			case c.Society != nil:
				bad(where, "has a Society and is also covered by %s", cv.Society)
			case !ok || o.Society == nil:
				bad(where, "covered by %q, which has no Society", cv.Society)
			case o.Society.Dissolved != nil:
				bad(where, "covered by the dissolved %s: enquiries would be routed to it", o.Society.NameEN)
			}
			checkSources(where+" covered_by", cv.Sources)
		}
		if l := c.LocalOrg; l != nil {
			if strings.TrimSpace(l.Name) == "" {
				bad(where, "local organisation has no name")
			}
			if l.Website != "" {
				if err := checkURL(l.Website); err != nil {
					bad(where, "local organisation website: %v", err)
				}
			}
			checkSources(where+" local_org", l.Sources)
		}
		s := c.Society
		if s == nil {
			// Routable all the same: the ICRC covers countries without a
			// Society, through a named delegation or its own list.
			continue
		}
		where = "society of " + c.ISO2
		if strings.TrimSpace(s.NameEN) == "" {
			bad(where, "has no English name")
		}
		if !ifrcIDFormat.MatchString(s.IFRCID) {
			bad(where, "IFRC id %q is not of the form DXX001", s.IFRCID)
		} else if other, dup := ids[s.IFRCID]; dup {
			bad(where, "IFRC id %s also used by %s", s.IFRCID, other)
		}
		ids[s.IFRCID] = c.ISO2
		checkSources(where, s.Sources)
		if s.Website != "" {
			if err := checkURL(s.Website); err != nil {
				bad(where, "website: %v", err)
			}
		}
		if s.IFRCURL != "" {
			if err := checkURL(s.IFRCURL); err != nil {
				bad(where, "IFRC directory page: %v", err)
			}
		}
		for lang, n := range s.Names {
			if lang != "fr" && lang != "es" && lang != "ar" && lang != "en" || strings.TrimSpace(n) == "" {
				bad(where, "name in %q: only non-empty IFRC names (fr, es, ar) are kept", lang)
			}
		}
		if s.NameLocal != "" && s.NameLocalLang == "" {
			bad(where, "own-language name without its language")
		}
		if ds := s.Dissolved; ds != nil {
			if _, err := time.Parse(time.DateOnly, ds.Date); err != nil {
				bad(where, "dissolution date %q is not YYYY-MM-DD", ds.Date)
			}
			checkSources(where+" dissolution", ds.Sources)
			if s.Website != "" {
				bad(where, "is dissolved but still links its website %s", s.Website)
			}
			if len(s.Services) > 0 {
				bad(where, "is dissolved but still claims services")
			}
		}
		svc := map[Service]bool{}
		for _, sc := range s.Services {
			if len(sc.Sources) == 0 {
				bad(where, "claims services %v without a source", sc.Kinds)
			}
			checkSources(where+" services", sc.Sources)
			if len(sc.Kinds) == 0 {
				bad(where, "a service claim names no service")
			}
			for _, k := range sc.Kinds {
				if !services[k] {
					bad(where, "unknown service %q", k)
				}
				if svc[k] {
					bad(where, "service %q listed twice", k)
				}
				svc[k] = true
			}
		}
		if e := s.Contact.Email; e != "" {
			if a, err := mail.ParseAddress(e); err != nil || a.Address != e {
				bad(where, "email %q is not a plain address", e)
			}
		}
		if p := s.Contact.Phone; p != "" && !phoneFormat.MatchString(p) {
			bad(where, "phone %q is not a phone number", p)
		}
	}
	// Whatever the inbox states, no residence may route to a dissolved
	// Society.
	all := func(string) bool { return true }
	for _, c := range d.Countries {
		dst, err := d.Route(c.ISO2, all)
		if err != nil {
			bad("country "+c.ISO2, "does not route: %v", err)
			continue
		}
		if o, ok := d.Country(dst.Inbox); ok && o.Society != nil && o.Society.Dissolved != nil {
			bad("country "+c.ISO2, "routes to the dissolved %s", o.Society.NameEN)
		}
	}
	return errors.Join(errs...)
}

// Scopes lists the message IDs that service claims use, for the locale
// check: each must be translated in every language.
func (d *Data) Scopes() []string {
	var out []string
	for _, c := range d.Countries {
		if c.Society == nil {
			continue
		}
		for _, sc := range c.Society.Services {
			if sc.Scope != "" {
				out = append(out, sc.Scope)
			}
		}
	}
	return out
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%q is not an http(s) address", raw)
	}
	if u.Host == "" || !strings.Contains(u.Hostname(), ".") {
		return fmt.Errorf("%q has no host name", raw)
	}
	if u.User != nil {
		return fmt.Errorf("%q carries credentials", raw)
	}
	return nil
}
