package staff_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// staffCatalog reads locales/staff.{tag}.toml: message ID → text (the
// "other" form of a plural).
func staffCatalog(t *testing.T, tag string) map[string]string {
	t.Helper()
	var raw map[string]any
	if _, err := toml.DecodeFile("../../locales/staff."+tag+".toml", &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for id, v := range raw {
		switch v := v.(type) {
		case string:
			out[id] = v
		case map[string]any:
			out[id], _ = v["other"].(string)
		}
	}
	return out
}

var placeholderRE = regexp.MustCompile(`\{\{[^}]*\}\}`)

// englishSentences are the pieces of English a page in lang must not show:
// every run of three words or more of a staff message whose English
// differs from the language's (placeholders cut out), unless the
// translation keeps it on purpose (a name such as "Trace the Face").
func englishSentences(t *testing.T, lang string) map[string]string {
	t.Helper()
	en, other := staffCatalog(t, "en"), staffCatalog(t, lang)
	out := map[string]string{}
	for id, s := range en {
		if other[id] == s {
			continue
		}
		for _, piece := range placeholderRE.Split(s, -1) {
			piece = strings.TrimSpace(piece)
			if len(strings.Fields(piece)) >= 3 && !strings.Contains(other[id], piece) {
				out[piece] = id
			}
		}
	}
	return out
}

// TestStaffPagesInTheAccountsLanguage: for an account set to Arabic, and
// one set to French, every back-office page says so in <html>, Arabic
// pages are mirrored, and no English sentence of the staff catalogue is
// left on them. What staff typed stays as typed, marked dir="auto".
func TestStaffPagesInTheAccountsLanguage(t *testing.T) {
	for _, tt := range []struct{ lang, html string }{
		{"ar", `<html lang="ar" dir="rtl">`},
		{"fr", `<html lang="fr" dir="ltr">`},
	} {
		t.Run(tt.lang, func(t *testing.T) {
			e := sitetest.New(t)
			ctx := context.Background()
			ana := e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
			ben := e.Account(t, "ben@drk.example", "de", store.RoleCaseworker)
			root := e.Account(t, "root@icrc.example", "", store.RoleAdmin)
			for _, a := range []store.Staff{ana, ben} {
				if err := e.Store.SetPageEditor(ctx, a.Email, true); err != nil {
					t.Fatal(err)
				}
			}
			for _, a := range []store.Staff{ana, ben, root} {
				if err := e.Store.SetLanguage(ctx, a.ID, tt.lang); err != nil {
					t.Fatal(err)
				}
			}
			enq := e.Enquiry(t, "de", "de", store.Personal{Name: "Amina Rahimi", SoughtName: "Farid Rahimi", Message: "Please help"})
			english := englishSentences(t, tt.lang)
			check := func(name string, p sitetest.Page) {
				t.Helper()
				if p.Status != http.StatusOK && p.Status != http.StatusUnprocessableEntity && p.Status != http.StatusUnauthorized {
					t.Errorf("%s: status %d", name, p.Status)
					return
				}
				if !strings.Contains(p.Body, tt.html) {
					t.Errorf("%s: no %s", name, tt.html)
				}
				body := html.UnescapeString(p.Body)
				for s, id := range english {
					if strings.Contains(body, s) {
						t.Errorf("%s: English left on the page: %q (%s)", name, s, id)
					}
				}
			}

			// Before sign-in: the language the browser asks for.
			anon := e.Browser(t)
			anon.Header.Set("Accept-Language", tt.lang)
			check("login", anon.Get("/staff/login"))
			check("wrong password", anon.Login("ana@drk.example", "not the password"))

			a := e.Browser(t)
			a.Login(ana.Email, sitetest.Password)
			tok := sitetest.CSRF(t, a.Get("/staff/"))
			if res := a.Do("POST", "/staff/enquiries/"+enq.Reference+"/notes", url.Values{"_csrf": {tok}, "note": {"Called the family"}}); res.Status != http.StatusSeeOther {
				t.Fatalf("note: %d", res.Status)
			}
			form := a.Get("/staff/gallery/new")
			res := a.Upload("/staff/gallery", entryFields(sitetest.CSRF(t, form)), "photo", "p.png", silhouettePNG(t))
			if res.Status != http.StatusSeeOther {
				t.Fatalf("gallery entry: %d", res.Status)
			}
			ref := strings.TrimPrefix(res.Header.Get("Location"), "/staff/gallery/")
			bad := entryFields(sitetest.CSRF(t, form))
			bad.Del("gender")
			bad.Set("review_date", "2000-01-01")

			check("dashboard", a.Get("/staff/"))
			check("inbox", a.Get("/staff/enquiries"))
			check("inbox by status", a.Get("/staff/enquiries?status=closed"))
			enquiry := a.Get("/staff/enquiries/" + enq.Reference)
			check("enquiry", enquiry)
			if !strings.Contains(enquiry.Body, `<dd dir="auto">Amina Rahimi</dd>`) || !strings.Contains(enquiry.Body, `dir="auto">Called the family</span>`) {
				t.Error("enquiry: a name or a note typed by a person is not shown as typed with dir=auto")
			}
			check("gallery", a.Get("/staff/gallery"))
			check("gallery form", form)
			check("gallery form with errors", a.Upload("/staff/gallery", bad, "photo", "p.gif", []byte("GIF89a")))
			entry := a.Get("/staff/gallery/" + ref)
			check("gallery entry", entry)
			if !strings.Contains(entry.Body, `<dd dir="auto">DRK-2026-0042</dd>`) {
				t.Error("gallery entry: the case reference is not shown as typed with dir=auto")
			}
			card := a.Get("/staff/cards/de")
			check("card", card)
			badCard := cardFields(sitetest.CSRF(t, card))
			badCard.Set("phone_1_number", "call us")
			badCard.Set("phone_1_voice", "yes")
			badCard.Set("place_0_close_3", "08:00")
			saved := a.Do("POST", "/staff/cards/de", badCard)
			check("card with errors", saved)
			msgs := staffCatalog(t, tt.lang)
			if body := text(saved.Body); saved.Status != http.StatusUnprocessableEntity || !strings.Contains(body, msgs["StaffCardErrPhone"]) ||
				!strings.Contains(body, msgs["StaffCardErrCloseAfterOpen"]) || !strings.Contains(body, `value="call us"`) || strings.Contains(body, "Wednesday") {
				t.Errorf("card with errors: %d; the problems are not in the account's language, the weekdays are in English, or what was typed is lost", saved.Status)
			}
			if res := a.Do("POST", "/staff/cards/de", cardFields(sitetest.CSRF(t, card))); res.Status != http.StatusSeeOther {
				t.Fatalf("card: save %d", res.Status)
			}
			check("card with a draft", a.Get("/staff/cards/de"))
			check("profile", a.Get("/staff/profile"))
			check("password", a.Get("/staff/password"))
			check("second factor", a.Get("/staff/totp"))

			b := e.Browser(t)
			b.Login(ben.Email, sitetest.Password)
			check("gallery entry, the approver's", b.Get("/staff/gallery/"+ref))
			toPublish := b.Get("/staff/cards/de")
			check("card, the publisher's", toPublish)
			if m := regexp.MustCompile(`action="(/staff/cards/de/\d+/publish)"`).FindStringSubmatch(toPublish.Body); m == nil {
				t.Error("card: the colleague is not offered to publish")
			} else if res := b.Do("POST", m[1], url.Values{"_csrf": {sitetest.CSRF(t, toPublish)}}); res.Status != http.StatusSeeOther {
				t.Errorf("card: publish %d", res.Status)
			}
			check("card, published", b.Get("/staff/cards/de"))

			admin := e.Browser(t)
			admin.Login(root.Email, sitetest.Password)
			check("audit", admin.Get("/staff/audit"))
			check("audit, a bad date", admin.Get("/staff/audit?from=yesterday"))
			check("inboxes", admin.Get("/staff/inboxes"))
			check("accounts", admin.Get("/staff/people?society=de"))
			check("account", admin.Get("/staff/people/"+itoa(ana.ID)))
			check("enquiry, with who saw it", admin.Get("/staff/enquiries/"+enq.Reference))
		})
	}
}

// TestProfileLanguage: a caseworker chooses French in her profile; the
// next page is French, a new sign-in elsewhere is French, and the login
// page after signing out is French too. English is the default.
func TestProfileLanguage(t *testing.T) {
	e := sitetest.New(t)
	ana := e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.Browser(t)
	b.Login(ana.Email, sitetest.Password)
	if p := b.Get("/staff/"); !strings.Contains(p.Body, `<html lang="en" dir="ltr">`) || strings.Contains(p.Body, `id="draft-notice"`) {
		t.Fatal("a new account's back office is not in English, or says English is a draft")
	}
	prof := b.Get("/staff/profile")
	if res := b.Do("POST", "/staff/profile", url.Values{"_csrf": {sitetest.CSRF(t, prof)}, "language": {"xx"}}); res.Status != http.StatusBadRequest {
		t.Errorf("an unknown language: %d", res.Status)
	}
	if res := b.Do("POST", "/staff/profile", url.Values{"language": {"fr"}}); res.Status != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", res.Status)
	}
	res := b.Do("POST", "/staff/profile", url.Values{"_csrf": {sitetest.CSRF(t, prof)}, "language": {"fr"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("save: %d", res.Status)
	}
	if p := b.Get("/staff/"); !strings.Contains(p.Body, `<html lang="fr" dir="ltr">`) || !strings.Contains(p.Body, "Toutes les demandes") || !strings.Contains(p.Body, `id="draft-notice"`) {
		t.Error("after choosing French, the dashboard is not in French with the draft notice")
	}
	entries, err := e.Store.AuditEntries(context.Background(), store.AuditFilter{Action: "profile.language", Limit: 5})
	if err != nil || len(entries) != 1 || entries[0].Actor != ana.Email {
		t.Errorf("the change is not audited: %v %v", entries, err)
	}
	other := e.Browser(t)
	other.Login(ana.Email, sitetest.Password)
	if p := other.Get("/staff/enquiries"); !strings.Contains(p.Body, `<html lang="fr" dir="ltr">`) {
		t.Error("a new sign-in in another browser forgot the account's language")
	}
	b.Do("POST", "/staff/logout", url.Values{"_csrf": {sitetest.CSRF(t, b.Get("/staff/"))}})
	if p := b.Get("/staff/login"); !strings.Contains(p.Body, `<html lang="fr" dir="ltr">`) || !strings.Contains(p.Body, "Se connecter") {
		t.Error("the login page after signing out is not in the language chosen")
	}
	// The login page's own switch, with no JavaScript: a link, then the
	// clean form in that language.
	anon := e.Browser(t)
	if res := anon.Get("/staff/login?lang=ar"); res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/staff/login" {
		t.Fatalf("switch: %d %s", res.Status, res.Header.Get("Location"))
	}
	if p := anon.Get("/staff/login"); !strings.Contains(p.Body, `<html lang="ar" dir="rtl">`) {
		t.Error("the login page's switch to Arabic did not stick")
	}
}
