package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// speaks makes the tab's browser ask for a language first, as a browser
// set up in it would.
func (b *Tab) speaks(lang string) {
	b.t.Helper()
	b.run(network.Enable(), network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": lang}))
}

// loginWithCode signs in with the password, then the code code() gives.
func (b *Tab) loginWithCode(email string, code func() string) {
	b.t.Helper()
	b.Go("/staff/login")
	b.Type("#email", email)
	b.Type("#password", sitetest.Password)
	b.Follow("form.card button[type=submit]")
	if path := b.Path(); path != "/staff/login/code" {
		b.t.Fatalf("%s: after the password: %s (%s)", email, path, b.Text("main"))
	}
	b.Type("#code", code())
	b.Follow("form.card button[type=submit]")
	if path := b.Path(); strings.HasPrefix(path, "/staff/login") {
		b.t.Fatalf("%s could not sign in with a code: %s", email, b.Text("main"))
	}
}

// inLanguage checks the page is in lang, mirrored for a right-to-left one.
func (b *Tab) inLanguage(lang, dir string) {
	b.t.Helper()
	if got, gotDir := b.Attr("html", "lang"), b.Attr("html", "dir"); got != lang || gotDir != dir {
		b.t.Errorf("%s: %s is in %q (%s), want %q (%s)", b.name, b.Path(), got, gotDir, lang, dir)
	}
}

// TestJourneyNetworkAdmin, in Arabic without JavaScript: the Somali Red
// Crescent's administrator requires a second factor and invites a
// caseworker; the caseworker opens the e-mailed link, chooses a password,
// sets up the second factor from the key shown, keeps the recovery codes,
// signs out, signs in with a code and opens an enquiry; the administrator
// finds that view in the audit trail. Then the Arabic inbox and audit
// page at 360 px.
func TestJourneyNetworkAdmin(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	e := s.Env
	ctx := context.Background()
	boss := e.Account(t, "hodan@bisha-cas.example", "so", store.RoleSocietyAdmin)
	if err := e.Store.SetLanguage(ctx, boss.ID, "ar"); err != nil {
		t.Fatal(err)
	}
	p := people["ar"]
	en := e.Enquiry(t, "so", "so", store.Personal{Name: p.Name, Email: "amina@example.org", SoughtName: p.Sought, Message: p.Message})
	const newcomer = "faadumo@bisha-cas.example"

	admin := newTab(t, s, "NetworkAdmin-admin", false)
	admin.phoneOnly = true
	admin.speaks("ar")
	admin.loginWithCode(boss.Email, func() string { return e.TOTPCode(t, boss.Email) })
	admin.inLanguage("ar", "rtl")
	admin.Follow("#people-link")
	admin.inLanguage("ar", "rtl")
	admin.Click(`#policy input[name="require_totp"]`)
	admin.Follow("#policy button[type=submit]")
	admin.Type("#i-email", newcomer)
	admin.Follow("#invite button[type=submit]")
	if !admin.Has("#invite-sent") {
		t.Fatalf("no invitation sent: %s", admin.Text("main"))
	}
	mail := s.Mail.Wait(t, newcomer)
	i := strings.Index(mail.Body, s.URL+"/staff/invite/")
	if i < 0 {
		t.Fatalf("no link in the invitation:\n%s", mail.Body)
	}
	link := strings.Fields(mail.Body[i+len(s.URL):])[0]

	// The caseworker: the link, a password, the second factor.
	cw := newTab(t, s, "NetworkAdmin-caseworker", false)
	cw.phoneOnly = true
	cw.speaks("ar")
	cw.Go(link)
	cw.inLanguage("ar", "rtl")
	cw.Type("#new", sitetest.Password)
	cw.Type("#confirm", sitetest.Password)
	cw.Follow("form.card button[type=submit]")
	if path := cw.Path(); path != "/staff/totp" {
		t.Fatalf("after accepting, with the Society's rule: %s, want the set-up page", path)
	}
	cw.inLanguage("ar", "rtl")
	var qrWidth int
	cw.run(chromedp.Evaluate(`document.querySelector("img.qr").naturalWidth`, &qrWidth))
	if qrWidth == 0 {
		t.Error("the QR code did not load")
	}
	// The set-up and the recovery codes, as a phone shows them.
	cw.fitsWidth()
	cw.Shot("totp-setup")
	secret := strings.ReplaceAll(cw.Text("#totp-secret"), " ", "")
	cw.Type("#code", e.TOTPCodeFor(t, newcomer, secret))
	cw.Follow("form.card button[type=submit]")
	var codes int
	cw.run(chromedp.Evaluate(`document.querySelectorAll("#recovery-codes li").length`, &codes))
	if codes != store.RecoveryCodes {
		t.Fatalf("%d recovery codes shown: %s", codes, cw.Text("main"))
	}
	cw.fitsWidth()
	cw.Shot("recovery-codes")
	cw.Follow("main a.button")
	cw.Follow("header form button[type=submit]") // sign out
	cw.loginWithCode(newcomer, func() string { return e.TOTPCodeFor(t, newcomer, secret) })
	cw.inLanguage("ar", "rtl")
	cw.Go("/staff/enquiries")
	cw.Follow(`a[href="/staff/enquiries/` + en.Reference + `"]`)
	if got := cw.Text("h1"); !strings.Contains(got, en.Reference) {
		t.Fatalf("opened %q", got)
	}
	if !strings.Contains(cw.Text("main"), p.Name) {
		t.Error("the enquiry does not show the enquirer's name")
	}

	// The administrator finds the view.
	admin.Go("/staff/audit")
	admin.Type("#a-object", en.Reference)
	admin.Follow("form.filter button[type=submit]")
	rows := admin.Text("#audit tbody")
	if !strings.Contains(rows, newcomer) || !strings.Contains(rows, "enquiry.view") {
		t.Errorf("the audit trail does not show %s opening %s:\n%s", newcomer, en.Reference, rows)
	}

	// At 360 px: the caseworker's inbox and the administrator's audit page.
	cw.Go("/staff/enquiries")
	cw.fitsWidth()
	cw.Shot("inbox")
	admin.fitsWidth()
	admin.Shot("audit")
}
