package contact_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/familylinks/familylinks/site/sitetest"
)

// With PostgreSQL gone (here: the pool closed under the site), a sent form
// comes back with everything typed in it and a 503, not a bare error page:
// a failure never loses input, and nothing was acknowledged.
func TestDatabaseDownKeepsInput(t *testing.T) {
	e := sitetest.New(t)
	b := e.Browser(t)
	page := b.Get("/ar/contact")
	in := valid("de")
	in.Set("_csrf", sitetest.CSRF(t, page))
	e.Store.Close()
	res := b.Do("POST", "/ar/contact", in)
	if res.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", res.Status)
	}
	if res.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if _, ok := b.Cookies["fl_sent"]; ok {
		t.Error("an enquiry that was not stored got a reference")
	}
	tr := e.Catalog.Translator("ar")
	if !strings.Contains(res.Body, `class="banner" role="alert"`) || !strings.Contains(res.Body, tr.T("ErrorServerText")) {
		t.Error("the page does not say in Arabic that the request could not be sent")
	}
	for _, kept := range []string{`value="أمينة &lt;b&gt;حسن&lt;/b&gt;"`, `value="يوسف"`, `value="٤٥"`,
		`He was last seen` + "\r\n" + `near the border. &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</textarea>`,
		`<option value="de" selected>`, `<option value="son" selected>`, `name="_csrf"`} {
		if !strings.Contains(res.Body, kept) {
			t.Errorf("input lost: %s", kept)
		}
	}
}
