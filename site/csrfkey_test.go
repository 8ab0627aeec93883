package site_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/familylinks/familylinks/site"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/sitetest"
)

// TestCSRFKeyIsItsOwn: two replicas share the CSRF key but not (during a
// rotation) the data key. A form from one is accepted by the other; a
// replica with another CSRF key refuses it, with everything typed kept.
func TestCSRFKeyIsItsOwn(t *testing.T) {
	e := sitetest.New(t)
	other := func(csrfKey []byte) *http.Response {
		keys, err := crypt.Parse(crypt.NewKey("rotated") + "," + e.KeySpec)
		if err != nil {
			t.Fatal(err)
		}
		app, err := site.New(site.Config{BaseURL: sitetest.BaseURL}, site.Deps{Content: e.Data, Catalog: e.Catalog,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: e.Store, Keys: keys, CSRFKey: csrfKey})
		if err != nil {
			t.Fatal(err)
		}
		b := e.Browser(t)
		form := b.Get("/en/contact")
		v := url.Values{"_csrf": {sitetest.CSRF(t, form)}, "residence": {"de"}, "name": {"Amina"}, "email": {"amina@example.org"},
			"lang": {"en"}, "sought_name": {"Yusuf"}, "relationship": {"son"}, "circumstance": {"conflict"},
			"message": {"Last seen near the border."}, "consent": {"yes"}}
		req := httptest.NewRequest("POST", "/en/contact", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, c := range b.Cookies {
			req.AddCookie(&http.Cookie{Name: k, Value: c})
		}
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := other(e.CSRFKey); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a form posted to a replica with the same CSRF key and a rotated data key: %d, want 303", res.StatusCode)
	}
	wrong := make([]byte, 32)
	if res := other(wrong); res.StatusCode != http.StatusForbidden {
		t.Errorf("a form posted to a replica with another CSRF key: %d, want 403", res.StatusCode)
	}
	if _, err := site.New(site.Config{BaseURL: sitetest.BaseURL}, site.Deps{Content: e.Data, Catalog: e.Catalog,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: e.Store, Keys: e.Keys}); err == nil {
		t.Error("a site with a database but no CSRF key started")
	}
}
