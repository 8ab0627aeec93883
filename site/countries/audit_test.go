package countries

import (
	"io"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/views"
	"github.com/familylinks/familylinks/site/web"
)

func auditKit(t *testing.T, fsys fs.FS) (*web.Kit, *content.Data) {
	t.Helper()
	cat, err := locales.Load(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := content.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := web.ParseViews(fsys, "countries")
	if err != nil {
		t.Fatal(err)
	}
	return &web.Kit{Catalog: cat, BaseURL: "https://familylinks.example", Views: v, Countries: web.NewCountryNames(cat, data.Codes())}, data
}

// TestAuditPassesAndCounts renders the 229 pages in ten languages and
// checks the figures a reader would see.
func TestAuditPassesAndCounts(t *testing.T) {
	kit, data := auditKit(t, views.FS)
	st, err := Audit(kit, data)
	if err != nil {
		t.Fatal(err)
	}
	if st.Places != len(data.Countries) || st.ContactForm != st.Places {
		t.Errorf("every place must be choosable and have the request form: %+v", st)
	}
	if st.Websites < 150 || st.SourcedServices == 0 || st.Delegations == 0 {
		t.Errorf("figures fell: %+v", st)
	}
}

// TestAuditCatchesWebsiteAbove breaks the country view the way the pages
// were before: "use the website above" whatever the Society has. The audit
// must name a page without a website.
func TestAuditCatchesWebsiteAbove(t *testing.T) {
	m := fstest.MapFS{}
	err := fs.WalkDir(views.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(views.FS, path)
		if path == "countries/show.html" {
			b = []byte(strings.ReplaceAll(string(b), "{{.T .ContactNoteKey}}", `{{.T "CountryNoContactDetails"}}`))
		}
		m[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	kit, data := auditKit(t, m)
	_, err = Audit(kit, data)
	if err == nil || !strings.Contains(err.Error(), "/en/countries/bt: refers to the website above, but shows none") {
		t.Fatalf("the audit must catch a page pointing to a website it does not show; got %v", err)
	}
}

// TestDissolvedSocietyIsNeverTheRecipient: Nicaragua's page names the
// dissolution, links no website of the old Society, and sends requests to
// the ICRC.
func TestDissolvedSocietyIsNeverTheRecipient(t *testing.T) {
	kit, data := auditKit(t, views.FS)
	h := New(kit, data, nil, nil)
	ni, _ := data.Country("ni")
	for _, l := range kit.Catalog.Languages() {
		dst, err := data.Route("ni", func(string) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		p := h.showPage(l, ni, dst.Inbox)
		b, err := kit.Views.Execute("countries/show", p)
		if err != nil {
			t.Fatal(err)
		}
		page := string(b)
		if dst.Inbox != content.CentralInbox || p.Recipient != kit.Catalog.Translator(l.Code).T("SentICRC") {
			t.Errorf("%s: requests from Nicaragua go to %q (%s), not the ICRC", l.Code, p.Recipient, dst.Inbox)
		}
		if p.Dissolved == "" || strings.Contains(page, "2023-05-09") {
			t.Errorf("%s: the dissolution date must be written in the page language", l.Code)
		}
		for _, old := range []string{"cruzrojanicaraguense.org", "nicaragua.cruzroja.org"} {
			if strings.Contains(page, old) {
				t.Errorf("%s: links the dissolved Society's website %s", l.Code, old)
			}
		}
	}
}

// TestSourcedServicesCiteInThePageLanguage: Panama's page says who says the
// Society offers calls and messages, and when, with the date in the page
// language and each part isolated, so that an Arabic sentence keeps its
// order ("بحسب ⁨ICRC⁩، ⁨10 مايو 2023⁩").
func TestSourcedServicesCiteInThePageLanguage(t *testing.T) {
	kit, data := auditKit(t, views.FS)
	h := New(kit, data, nil, nil)
	pa, _ := data.Country("pa")
	ar, _ := kit.Catalog.Lookup("ar")
	p := h.showPage(ar, pa, "pa")
	if len(p.Claims) != 1 || len(p.Claims[0].Services) != 2 {
		t.Fatalf("Panama: want one sourced claim of two services, got %+v", p.Claims)
	}
	if got, want := p.Claims[0].Source, "\u2068ICRC\u2069، \u206810 مايو 2023\u2069"; got != want {
		t.Errorf("citation %q, want %q", got, want)
	}
	if p.Recipient != "الصليب الأحمر البنمي" || len(p.Services) != 6 {
		t.Errorf("recipient %q, %d other services", p.Recipient, len(p.Services))
	}
}
