package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/photo"

	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// A person types in their own script; the RTL runs are in Arabic.
type person struct {
	Name, Sought, Place, Message string
}

var people = map[string]person{
	"en": {Name: "Amina Hassan", Sought: "Yusuf Hassan", Place: "Tripoli, Libya", Message: "I last saw my son in Libya in 2023."},
	"ar": {Name: "أمينة حسن", Sought: "يوسف حسن", Place: "طرابلس، ليبيا", Message: "آخر مرة رأيت ابني كانت في ليبيا عام ٢٠٢٣."},
}

var reference = regexp.MustCompile(`^FL(-[0-9A-Z]{4}){3}$`)

// journeyLangs: every journey runs in English and in Arabic, with
// JavaScript off. The site sends no script and its policy
// (Content-Security-Policy: default-src 'none') lets none run, so a page
// with JavaScript on is the same page; Tab.Go and Tab.Follow make sure of
// the first half on every page they open.
var journeyLangs = []string{"en", "ar"}

func tabName(t *testing.T) string {
	return strings.NewReplacer("/", "-", "Test", "").Replace(t.Name())
}

// checkPage is what every page must show: the language and direction of
// the journey.
func checkPage(t *testing.T, b *Tab, lang string) {
	t.Helper()
	dir := "ltr"
	if lang == "ar" {
		dir = "rtl"
	}
	if got := b.Attr("html", "lang"); got != lang {
		t.Errorf("%s: <html lang=%q>, want %q", b.Path(), got, lang)
	}
	if got := b.Attr("html", "dir"); got != dir {
		t.Errorf("%s: <html dir=%q>, want %q", b.Path(), got, dir)
	}
}

// enquiry reads an enquiry back from PostgreSQL and opens its personal data.
func enquiry(t *testing.T, s *liveSite, ref string) (store.Enquiry, store.Personal) {
	t.Helper()
	en, err := s.Env.Store.EnquiryByRef(context.Background(), ref)
	if err != nil {
		t.Fatalf("enquiry %s is not in PostgreSQL: %v", ref, err)
	}
	raw, err := s.Env.Keys.OpenAt(*en.KeyID, en.Sealed, crypt.EnquiryPersonal(ref))
	if err != nil {
		t.Fatal(err)
	}
	var p store.Personal
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatal(err)
	}
	return en, p
}

// TestJourneyContact: home → choose the country → its page → the contact
// form with the email wrong → corrected → the confirmation. Everything typed
// survives the error, and the enquiry is in PostgreSQL as typed.
func TestJourneyContact(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	for _, lang := range journeyLangs {
		t.Run(lang, func(t *testing.T) {
			p := people[lang]
			b := newTab(t, s, tabName(t), false)
			b.Go("/" + lang + "/")
			checkPage(t, b, lang)
			b.Shot("home")
			b.Choose("#country", "de")
			b.Follow(`form[action="/` + lang + `/countries"] button[type=submit]`)
			if got := b.Path(); got != "/"+lang+"/countries/de" {
				t.Fatalf("choosing Germany led to %s", got)
			}
			checkPage(t, b, lang)
			b.Shot("country")
			b.Follow(`a.button[href="/` + lang + `/contact?country=de"]`)
			if got := b.Value("#f-residence"); got != "de" {
				t.Errorf("the form came with residence %q, want de", got)
			}
			b.Type("#f-name", p.Name)
			b.Type("#f-email", "amina-at-example")
			b.Type("#f-sought_name", p.Sought)
			b.Choose("#f-relationship", "son")
			b.Type("#f-sought_place", p.Place)
			b.Choose("#f-circumstance", "migration")
			b.Type("#f-message", p.Message)
			b.Click("#f-consent")
			b.Shot("form")
			b.Follow("form.enquiry button[type=submit]")
			checkPage(t, b, lang)
			b.Shot("errors")
			if !b.Has("#e-email") || b.Text("#e-email") == "" {
				t.Fatal("no error beside the email field")
			}
			if got := b.Attr("#f-email", "aria-invalid"); got != "true" {
				t.Errorf("the email field is not marked invalid (aria-invalid=%q)", got)
			}
			if !strings.Contains(b.Attr("#f-email", "aria-describedby"), "e-email") {
				t.Error("the email error is not tied to its field by aria-describedby")
			}
			for sel, want := range map[string]string{"#f-name": p.Name, "#f-email": "amina-at-example", "#f-sought_name": p.Sought,
				"#f-sought_place": p.Place, "#f-message": p.Message, "#f-relationship": "son", "#f-circumstance": "migration", "#f-residence": "de"} {
				if got := b.Value(sel); got != want {
					t.Errorf("after the error %s holds %q, want %q as typed", sel, got, want)
				}
			}
			b.Replace("#f-email", "amina@example.org")
			b.Follow("form.enquiry button[type=submit]")
			checkPage(t, b, lang)
			b.Shot("sent")
			ref := b.Text(".ref")
			if !reference.MatchString(ref) {
				t.Fatalf("confirmation shows reference %q", ref)
			}
			if path := b.Path(); strings.Contains(path, "amina") || strings.Contains(path, "Hassan") {
				t.Errorf("personal data in the URL: %s", path)
			}
			en, got := enquiry(t, s, ref)
			if en.Residence != "de" || en.Relationship != "son" || en.Circumstance != "migration" {
				t.Errorf("stored %+v", en)
			}
			if got.Name != p.Name || got.Email != "amina@example.org" || got.Message != p.Message || got.SoughtPlace != p.Place {
				t.Errorf("stored personal data %+v, want what was typed", got)
			}
		})
	}
}

// waitFor reloads path until cond holds, for changes the outbox worker
// applies to the index; it fails after a generous deadline.
func waitFor(t *testing.T, b *Tab, path string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.Go(path)
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not as expected after 30 s", path)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// refs are the public references of the cards on the page.
func (b *Tab) refs() []string {
	b.t.Helper()
	var out []string
	b.run(chromedp.Evaluate(`[...document.querySelectorAll(".grid .ref")].map(e => e.textContent.trim())`, &out))
	return out
}

// login signs in to the back office.
func (b *Tab) login(email string) {
	b.t.Helper()
	b.Go("/staff/login")
	b.Type("#email", email)
	b.Type("#password", sitetest.Password)
	b.Follow("form.card button[type=submit]")
	if path := b.Path(); strings.HasPrefix(path, "/staff/login") {
		b.t.Fatalf("%s could not sign in: %s", email, b.Text("main"))
	}
}

// TestJourneyGallery: the gallery → filter by country of origin and
// relationship → one photo → the "Do you have information?" form. The
// enquiry goes to the Society that published the photo.
func TestJourneyGallery(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	galleryFixture(t, s)
	for _, lang := range journeyLangs {
		t.Run(lang, func(t *testing.T) {
			p := people[lang]
			b := newTab(t, s, tabName(t), false)
			waitFor(t, b, "/"+lang+"/trace-the-face", func() bool { return len(b.refs()) == 3 })
			checkPage(t, b, lang)
			b.Shot("gallery")
			b.Choose("#f-origin", "af")
			b.Choose("#f-seeking", "mother")
			b.Follow("form.gallery-filter fieldset button[type=submit]")
			checkPage(t, b, lang)
			b.Shot("filtered")
			if got := b.refs(); len(got) != 1 || got[0] != "TTF-7Q4K2" {
				t.Fatalf("Afghanistan + mother shows %v, want [TTF-7Q4K2]", got)
			}
			if path := b.Path(); !strings.Contains(path, "origin=af") || !strings.Contains(path, "seeking=mother") {
				t.Errorf("the filtered gallery's URL %s cannot be shared", path)
			}
			if got := b.Value("#f-origin"); got != "af" {
				t.Errorf("the country filter shows %q after filtering", got)
			}
			b.Follow(`.grid a[href$="/trace-the-face/TTF-7Q4K2"]`)
			checkPage(t, b, lang)
			if h := b.Text("h1"); !strings.Contains(h, "TTF-7Q4K2") {
				t.Fatalf("the photo page's heading is %q", h)
			}
			b.until(`[...document.images].filter(i => i.src.includes("/media/")).every(i => i.complete && i.naturalWidth > 0)`)
			b.Shot("photo")
			b.Type("#f-message", p.Message)
			b.Type("#f-name", p.Name)
			b.Type("#f-email", "amina@example.org")
			b.Choose("#f-residence", "se")
			b.Click("#f-consent")
			b.Follow("form.enquiry button[type=submit]")
			checkPage(t, b, lang)
			b.Shot("sent")
			ref := b.Text(".ref")
			if !reference.MatchString(ref) {
				t.Fatalf("confirmation shows reference %q", ref)
			}
			en, got := enquiry(t, s, ref)
			if en.Inbox != "de" || en.GalleryRef == nil || *en.GalleryRef != "TTF-7Q4K2" {
				t.Errorf("information about TTF-7Q4K2 went to inbox %q about %v, want the publishing Society's (de)", en.Inbox, en.GalleryRef)
			}
			if got.Message != p.Message || got.Name != p.Name {
				t.Errorf("stored %+v, want what was typed", got)
			}
		})
	}
}

// TestJourneyStaffInbox: a caseworker signs in, finds an enquiry in the
// inbox, opens it and closes it. The back office is in English; the RTL
// run reads an enquiry written in Arabic, which must show right to left.
func TestJourneyStaffInbox(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	e := s.Env
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	for _, lang := range journeyLangs {
		t.Run(lang, func(t *testing.T) {
			p := people[lang]
			en := e.Enquiry(t, "de", "de", store.Personal{Name: p.Name, Email: "amina@example.org", SoughtName: p.Sought, Message: p.Message})
			b := newTab(t, s, tabName(t), false)
			b.login("ana@drk.example")
			b.Shot("dashboard")
			b.Go("/staff/enquiries")
			b.Shot("inbox")
			b.Follow(`a[href="/staff/enquiries/` + en.Reference + `"]`)
			b.Shot("enquiry")
			if got := b.Text("h1"); !strings.Contains(got, en.Reference) {
				t.Fatalf("opened %q", got)
			}
			if body := b.Text("main"); !strings.Contains(body, p.Name) || !strings.Contains(body, p.Message) {
				t.Fatal("the enquiry page does not show the enquirer's name and message")
			}
			var dir string
			b.run(chromedp.Evaluate(`getComputedStyle(document.querySelector("p.message")).direction`, &dir))
			if want := map[string]string{"en": "ltr", "ar": "rtl"}[lang]; dir != want {
				t.Errorf("the message shows %s, want %s", dir, want)
			}
			b.Choose("#status", store.StatusClosed)
			b.Choose("#outcome", store.Outcomes()[0])
			b.Follow(`form[action$="/status"] button[type=submit]`)
			b.Shot("closed")
			after, err := e.Store.EnquiryByRef(context.Background(), en.Reference)
			if err != nil {
				t.Fatal(err)
			}
			if after.Status != store.StatusClosed || after.Outcome == nil || *after.Outcome != store.Outcomes()[0] {
				t.Errorf("after closing: status %q, outcome %v", after.Status, after.Outcome)
			}
			if got := b.Text("dl.contact dd"); !strings.Contains(got, "closed") {
				t.Errorf("the page shows status %q after closing", got)
			}
		})
	}
}

// TestJourneyPublish: one caseworker uploads a photo, a second approves
// it, the public sees it in the gallery, it is withdrawn, and it is gone
// from the gallery and its page.
func TestJourneyPublish(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	e := s.Env
	e.Account(t, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "b@drk.example", "de", store.RoleCaseworker)
	jpegPath := filepath.Join(t.TempDir(), "person.jpg")
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo.Silhouette(7, 600, 750), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jpegPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, lang := range journeyLangs {
		t.Run(lang, func(t *testing.T) {
			a := newTab(t, s, tabName(t)+"-a", false)
			a.login("a@drk.example")
			a.Go("/staff/gallery/new")
			a.run(chromedp.SetUploadFiles("#photo", []string{jpegPath}, chromedp.ByQuery))
			a.Choose("#gender", "female")
			a.Choose("#age_group", "30-44")
			a.Click(`input[name=seeking][value=sister]`)
			a.Choose("#origin", "er")
			a.Type("#languages", "ti, ar")
			caseRef := map[string]string{"en": "DRK-2026-0417", "ar": "ملف-٢٠٢٦-٤١٧"}[lang]
			a.Type("#case_ref", caseRef)
			a.Choose("#consent_date", time.Now().Format("2006-01-02"))
			a.Type("#consent_version", "TTF-2025-1")
			a.Type("#consent_by", "Ana")
			a.Choose("#review_date", time.Now().AddDate(1, 0, 0).Format("2006-01-02"))
			a.Shot("new")
			a.Follow(`form[action="/staff/gallery"] button[type=submit]`)
			a.Shot("pending")
			ref := a.Text("h1 span")
			if !strings.HasPrefix(ref, "TTF-") {
				t.Fatalf("saving led to %q: %s", a.Text("h1"), a.Text("main"))
			}
			if a.Has(`form[action$="/approve"]`) {
				t.Fatal("the caseworker who created the entry is offered to approve it")
			}
			if got := a.Text("main"); !strings.Contains(got, caseRef) {
				t.Errorf("the entry page does not show the case reference %q as typed", caseRef)
			}

			pub := newTab(t, s, tabName(t)+"-public", false)
			pub.Go("/" + lang + "/trace-the-face/" + ref)
			if h := pub.Text("h1"); strings.Contains(h, ref) {
				t.Fatalf("the public sees %s before a second person approved it", ref)
			}

			b := newTab(t, s, tabName(t)+"-b", false)
			b.login("b@drk.example")
			b.Go("/staff/gallery/" + ref)
			b.Follow(`form[action$="/approve"] button[type=submit]`)
			b.Shot("approved")

			waitFor(t, pub, "/"+lang+"/trace-the-face?origin=er", func() bool { return slices.Contains(pub.refs(), ref) })
			pub.Shot("public")
			pub.Go("/" + lang + "/trace-the-face/" + ref)
			if h := pub.Text("h1"); !strings.Contains(h, ref) {
				t.Fatalf("the published photo's page shows %q", h)
			}
			if strings.Contains(pub.Text("body"), caseRef) {
				t.Fatal("the public page shows the confidential case reference")
			}

			b.Go("/staff/gallery/" + ref)
			b.Choose("#reason", store.WithdrawFamilyFound)
			b.Follow(`form[action$="/withdraw"] button[type=submit]`)
			b.Shot("withdrawn")
			// No waiting: PostgreSQL decides before the index catches up.
			pub.Go("/" + lang + "/trace-the-face?origin=er")
			if slices.Contains(pub.refs(), ref) {
				t.Error("the withdrawn photo is still in the gallery")
			}
			pub.Go("/" + lang + "/trace-the-face/" + ref)
			pub.Shot("gone")
			if h := pub.Text("h1"); strings.Contains(h, ref) {
				t.Errorf("the withdrawn photo's page still shows it: %q", h)
			}
		})
	}
}
