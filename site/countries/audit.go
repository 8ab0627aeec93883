package countries

import (
	"errors"
	"fmt"
	"html/template"
	"strings"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/site/web"
)

// Stats are what the country pages offer a person, counted by Audit.
type Stats struct {
	Places          int // countries and territories a person can choose as residence
	Societies       int // member Societies that can receive requests
	Websites        int // pages linking the website of a Society that helps there
	SourcedServices int // services a named source says a Society offers
	Delegations     int // pages naming the ICRC delegation that covers them
	ContactDetails  int // pages with a phone number, e-mail or address
	ContactForm     int // pages with a way to send a request through this site
	AnyRoute        int // pages with at least one way to reach someone
}

// Audit renders every country page in every language, once as if every
// inbox received requests and once as if none did, and checks what a
// reader would be told: a page that points to "the website above" shows
// one; a dissolved Society is never offered as the recipient and its
// website never linked; every page has a way to send a request and the
// anti-scam notice. It returns the counts (from the English pages) and
// every problem found.
func Audit(kit *web.Kit, data *content.Data) (Stats, error) {
	h := New(kit, data, nil, nil)
	var errs []error
	var st Stats
	all := func(string) bool { return true }
	none := func(string) bool { return false }
	for _, l := range kit.Catalog.Languages() {
		tr := kit.Catalog.Translator(l.Code)
		aboveWebsite := template.HTMLEscapeString(tr.T("CountryNoContactDetails"))
		scam := template.HTMLEscapeString(tr.T("ScamNotice"))
		for i := range data.Countries {
			cn := &data.Countries[i]
			for n, active := range []func(string) bool{all, none} {
				dst, err := data.Route(cn.ISO2, active)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				p := h.showPage(l, cn, dst.Inbox)
				b, err := kit.Views.Execute("countries/show", p)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s/%s: %w", l.Code, cn.ISO2, err))
					continue
				}
				page := string(b)
				where := fmt.Sprintf("/%s/countries/%s", l.Code, cn.ISO2)
				if strings.Contains(page, aboveWebsite) && (p.Website == "" || !strings.Contains(page, `href="`+template.HTMLEscapeString(p.Website)+`"`)) {
					errs = append(errs, fmt.Errorf("%s: refers to the website above, but shows none", where))
				}
				if s := cn.Society; s != nil && s.Dissolved != nil {
					if strings.Contains(p.Recipient, s.Name(l.Code)) || strings.Contains(p.Recipient, s.NameEN) {
						errs = append(errs, fmt.Errorf("%s: offers to send requests to the dissolved %s", where, s.NameEN))
					}
					if p.Website != "" {
						errs = append(errs, fmt.Errorf("%s: links a website of the dissolved %s", where, s.NameEN))
					}
				}
				form := strings.Contains(page, `/contact?country=`+cn.ISO2+`"`)
				if !form {
					errs = append(errs, fmt.Errorf("%s: no way to send a request", where))
				}
				if !strings.Contains(page, scam) {
					errs = append(errs, fmt.Errorf("%s: no anti-scam notice", where))
				}
				if l.Code != "en" || n > 0 {
					continue // count each English page once, as routed with every inbox active
				}
				st.Places++
				if cn.Society.Active() {
					st.Societies++
					for _, sc := range cn.Society.Services {
						st.SourcedServices += len(sc.Kinds)
					}
					if !cn.Society.Contact.Empty() {
						st.ContactDetails++
					}
				}
				if p.Website != "" {
					st.Websites++
				}
				if cn.ICRCDelegation != nil {
					st.Delegations++
				}
				if form {
					st.ContactForm++
				}
				if form || p.Website != "" {
					st.AnyRoute++
				}
			}
		}
	}
	return st, errors.Join(errs...)
}
