package site_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// TestTextPostgresCannotHold: invalid UTF-8 or a NUL byte in a reference,
// a query, a cookie or a form field gets a 400 page, not a 500. PostgreSQL
// refuses such text; it can only have come from the request.
func TestTextPostgresCannotHold(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	ref := e.Enquiry(t, "de", "de", store.Personal{Name: "Amina", Email: "amina@example.org"}).Reference
	b := e.Browser(t)
	if res := b.Login("ana@drk.example", sitetest.Password); res.Status != http.StatusSeeOther {
		t.Fatalf("login: %d", res.Status)
	}
	tok := sitetest.CSRF(t, b.Get("/staff/enquiries/"+ref))
	for _, tt := range []struct {
		name, method, path string
		form               url.Values
		cookie             string
	}{
		{name: "enquiry reference", method: "GET", path: "/staff/enquiries/caf\xc3"},
		{name: "enquiry reference, surrogate", method: "GET", path: "/staff/enquiries/\xed\xa0\x80"},
		{name: "photo reference", method: "GET", path: "/media/\xff/320.jpg"},
		{name: "gallery status filter", method: "GET", path: "/staff/gallery?status=%00"},
		{name: "confirmation cookie", method: "GET", path: "/en/contact/sent", cookie: "fl_sent=\xff\xfe"},
		{name: "note", method: "POST", path: "/staff/enquiries/" + ref + "/notes", form: url.Values{"_csrf": {tok}, "note": {"a\x00b"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := e.Browser(t)
			for k, v := range b.Cookies {
				c.Cookies[k] = v
			}
			if tt.cookie != "" {
				c.Header.Set("Cookie", tt.cookie)
			}
			res := c.Do(tt.method, tt.path, tt.form)
			if res.Status != http.StatusBadRequest {
				t.Errorf("%s %q: %d, want 400", tt.method, tt.path, res.Status)
			}
		})
	}
}
