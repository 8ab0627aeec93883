package contact_test

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/site/contact"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/web"
)

func valid(residence string) url.Values {
	return url.Values{
		"residence": {residence}, "name": {"أمينة <b>حسن</b>"}, "email": {"amina@example.org"}, "phone": {""},
		"lang": {"ar"}, "sought_name": {"يوسف"}, "sought_age": {"٤٥"}, "sought_place": {"Kabul"},
		"lost_when": {"2023"}, "relationship": {"son"}, "circumstance": {"conflict"},
		"message": {"He was last seen\r\nnear the border. <script>alert(1)</script> & more"}, "consent": {"yes"},
	}
}

// submit opens the form as a browser would, then posts it with its token.
func submit(t *testing.T, b *sitetest.Browser, lang string, form url.Values) sitetest.Page {
	t.Helper()
	page := b.Get("/" + lang + "/contact")
	form.Set("_csrf", sitetest.CSRF(t, page))
	return b.Do("POST", "/"+lang+"/contact", form)
}

func open(t *testing.T, e *sitetest.Env, en store.Enquiry) store.Personal {
	t.Helper()
	plain, err := e.Keys.OpenAt(*en.KeyID, en.Sealed, crypt.EnquiryPersonal(en.Reference))
	if err != nil {
		t.Fatal(err)
	}
	var p store.Personal
	if err := json.Unmarshal(plain, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestArabicSpeakerInGermany is the journey of the issue: in Arabic, from
// the Germany page, a person living in Germany asks for help; the German Red
// Cross sees the enquiry and the French Red Cross does not.
func TestArabicSpeakerInGermany(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "luc@croix-rouge.example", "fr", store.RoleCaseworker)
	b := e.Browser(t)
	country := b.Get("/ar/countries/de")
	if !strings.Contains(country.Body, `href="/ar/contact?country=de"`) {
		t.Fatal("the country page has no button to the contact form")
	}
	form := b.Get("/ar/contact?country=de")
	if !strings.Contains(form.Body, `<option value="de" selected>`) {
		t.Fatal("?country=de must preselect Germany")
	}
	in := valid("de")
	in.Set("_csrf", sitetest.CSRF(t, form))
	res := b.Do("POST", "/ar/contact", in)
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/ar/contact/sent" {
		t.Fatalf("submit: %d %q", res.Status, res.Header.Get("Location"))
	}
	sent := b.Get("/ar/contact/sent")
	tr := e.Catalog.Translator("ar")
	if !strings.Contains(sent.Body, tr.T("SentLead", "Destination", web.Isolate(e.Data.InboxNameIn("de", "ar")))) {
		t.Fatalf("the confirmation must say where the request went")
	}
	list, _ := e.Store.Enquiries(context.Background(), store.EnquiryFilter{})
	if len(list) != 1 {
		t.Fatalf("%d enquiries stored", len(list))
	}
	en := list[0]
	if !strings.Contains(sent.Body, en.Reference) || strings.Contains(sent.Body, "أمينة") || strings.Contains(sent.Body, "amina@") {
		t.Error("the confirmation shows the reference and no personal data")
	}
	if en.Inbox != "de" || en.RouteReason != "society" || en.Lang != "ar" || en.Relationship != "son" {
		t.Errorf("stored %+v", en)
	}
	// Sealed at rest, and exactly as typed once opened.
	if strings.Contains(string(en.Sealed), "amina") || strings.Contains(string(en.Sealed), "border") {
		t.Error("personal data is readable in the database")
	}
	p := open(t, e, en)
	if p.Name != in.Get("name") || p.Message != in.Get("message") || p.SoughtAge != "٤٥" {
		t.Errorf("stored %+v, typed %v", p, in)
	}
	// The notification carries the reference and nothing personal.
	rows, _ := e.Store.OutboxRows(context.Background())
	if len(rows) != 1 || rows[0].Topic != store.TopicEnquiryNotify {
		t.Fatalf("outbox: %+v", rows)
	}
	de := e.Browser(t)
	de.Login("ana@drk.example", sitetest.Password)
	if inbox := de.Get("/staff/enquiries"); !strings.Contains(inbox.Body, en.Reference) {
		t.Error("the German Red Cross does not see the enquiry")
	}
	view := de.Get("/staff/enquiries/" + en.Reference)
	if view.Status != 200 || !strings.Contains(view.Body, "&lt;script&gt;") || strings.Contains(view.Body, "<script>") {
		t.Errorf("the enquiry must be shown, its markup as text: %d", view.Status)
	}
	fr := e.Browser(t)
	fr.Login("luc@croix-rouge.example", sitetest.Password)
	if inbox := fr.Get("/staff/enquiries"); strings.Contains(inbox.Body, en.Reference) {
		t.Error("the French Red Cross sees a German enquiry")
	}
	if res := fr.Get("/staff/enquiries/" + en.Reference); res.Status != http.StatusNotFound {
		t.Errorf("the French Red Cross opened it: %d", res.Status)
	}
	log, _ := e.Store.AuditLog(context.Background(), 50)
	views := 0
	for _, l := range log {
		if l.Action == "enquiry.view" && l.ObjectID == en.Reference {
			views++
		}
	}
	if views != 1 {
		t.Errorf("the view must be audit-logged once, got %d", views)
	}
}

func TestValidationKeepsInputInTwoLanguages(t *testing.T) {
	e := sitetest.New(t)
	for _, lang := range []string{"en", "ar"} {
		t.Run(lang, func(t *testing.T) {
			b := e.Browser(t)
			in := valid("de")
			in.Set("email", "not-an-address")
			in.Del("consent")
			in.Set("relationship", "enemy")
			res := submit(t, b, lang, in)
			if res.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d", res.Status)
			}
			tr := e.Catalog.Translator(lang)
			for _, id := range []string{"ErrEmail", "ErrConsent", "ErrChoose"} {
				if !strings.Contains(res.Body, `class="field-error"`) || !strings.Contains(res.Body, tr.T(id)) {
					t.Errorf("error %s not shown in %s", id, lang)
				}
			}
			wantDir := map[string]string{"en": `dir="ltr"`, "ar": `dir="rtl"`}[lang]
			if !strings.Contains(res.Body, `<html lang="`+lang+`" `+wantDir) {
				t.Error("the page must keep its language and direction")
			}
			for _, kept := range []string{`value="not-an-address"`, `value="أمينة &lt;b&gt;حسن&lt;/b&gt;"`, `value="يوسف"`,
				`value="٤٥"`, `He was last seen` + "\r\n" + `near the border. &lt;script&gt;alert(1)&lt;/script&gt; &amp; more</textarea>`,
				`<option value="de" selected>`, `<option value="conflict" selected>`, `<option value="ar" selected>`} {
				if !strings.Contains(res.Body, kept) {
					t.Errorf("input lost: %s", kept)
				}
			}
			if !strings.Contains(res.Body, `aria-invalid="true" aria-describedby="e-consent"`) {
				t.Error("an error must be tied to its field for screen readers")
			}
		})
	}
	if n, _ := e.Store.CountEnquiries(context.Background()); n != 0 {
		t.Errorf("%d enquiries stored from invalid forms", n)
	}
}

func TestCSRFHoneypotAndRateLimit(t *testing.T) {
	e := sitetest.New(t)
	b := e.Browser(t)
	b.Get("/en/contact")
	in := valid("de")
	in.Set("_csrf", "forged")
	res := b.Do("POST", "/en/contact", in)
	if res.Status != http.StatusForbidden || !strings.Contains(res.Body, `value="amina@example.org"`) {
		t.Errorf("forged token: %d, input kept: %v", res.Status, strings.Contains(res.Body, "amina@example.org"))
	}
	// A token from another browser does not fit this browser's cookie.
	other := e.Browser(t)
	in.Set("_csrf", sitetest.CSRF(t, other.Get("/en/contact")))
	if res := b.Do("POST", "/en/contact", in); res.Status != http.StatusForbidden {
		t.Errorf("another browser's token: %d", res.Status)
	}
	// Every page carries a token of its own, even within one second, so a
	// compressed page's size cannot give it away (BREACH); each is valid,
	// and one whose salt is changed is not.
	t1, t2 := sitetest.CSRF(t, b.Get("/en/contact")), sitetest.CSRF(t, b.Get("/en/contact"))
	if t1 == t2 {
		t.Errorf("two pages carry the same token %q", t1)
	}
	parts := strings.Split(t1, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", t1)
	}
	salt := []byte(parts[1])
	salt[0] ^= 1
	in.Set("_csrf", parts[0]+"."+string(salt)+"."+parts[2])
	if res := b.Do("POST", "/en/contact", in); res.Status != http.StatusForbidden {
		t.Errorf("a token with its salt changed: %d", res.Status)
	}
	trap := valid("de")
	trap.Set("website", "http://spam.example")
	if res := submit(t, b, "en", trap); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("honeypot: %d", res.Status)
	}
	if n, _ := e.Store.CountEnquiries(context.Background()); n != 0 {
		t.Fatalf("%d enquiries stored from refused posts", n)
	}
	for i := 0; i < contact.RateMax-1; i++ { // the honeypot post counted once
		if res := submit(t, b, "en", valid("de")); res.Status != http.StatusSeeOther {
			t.Fatalf("post %d: %d", i+1, res.Status)
		}
	}
	res = submit(t, b, "en", valid("de"))
	tr := e.Catalog.Translator("en")
	if res.Status != http.StatusTooManyRequests || !strings.Contains(res.Body, tr.T("TooManyText")) || !strings.Contains(res.Body, "amina@example.org") {
		t.Errorf("over the limit: %d; a clear message and the input kept", res.Status)
	}
	if n, _ := e.Store.CountEnquiries(context.Background()); n != contact.RateMax-1 {
		t.Errorf("%d enquiries stored", n)
	}
}

func TestRoutingWithoutActiveInbox(t *testing.T) {
	e := sitetest.New(t)
	// France has no caseworker, Oman no Society: both go to the ICRC.
	for _, res := range []string{"fr", "om"} {
		b := e.Browser(t)
		if r := submit(t, b, "en", valid(res)); r.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d", res, r.Status)
		}
	}
	list, _ := e.Store.Enquiries(context.Background(), store.EnquiryFilter{})
	for _, en := range list {
		if en.Inbox != "icrc" || en.RouteReason != "central" || en.RouteNote == "" {
			t.Errorf("%s: routed to %s (%s)", en.Residence, en.Inbox, en.RouteReason)
		}
	}
	// An administrator can switch a Society's inbox off.
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	if r := submit(t, e.Browser(t), "en", valid("de")); r.Status != http.StatusSeeOther {
		t.Fatal(r.Status)
	}
	admin := e.Account(t, "root@icrc.example", "", store.RoleAdmin)
	if err := e.Store.SetInbox(context.Background(), "de", "", true, admin.ID); err != nil {
		t.Fatal(err)
	}
	if r := submit(t, e.Browser(t), "en", valid("de")); r.Status != http.StatusSeeOther {
		t.Fatal(r.Status)
	}
	list, _ = e.Store.Enquiries(context.Background(), store.EnquiryFilter{})
	if list[0].Inbox != "icrc" || list[1].Inbox != "de" {
		t.Errorf("switched-off inbox: newest went to %s, before to %s", list[0].Inbox, list[1].Inbox)
	}
}

func TestTransferCloseAndPurge(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "luc@croix-rouge.example", "fr", store.RoleCaseworker)
	en := e.Enquiry(t, "de", "de", store.Personal{Name: "Amina", SoughtName: "Yusuf"})
	de := e.Browser(t)
	de.Login("ana@drk.example", sitetest.Password)
	tok := sitetest.CSRF(t, de.Get("/staff/enquiries/"+en.Reference))
	if r := de.Do("POST", "/staff/enquiries/"+en.Reference+"/notes", url.Values{"_csrf": {tok}, "note": {"Called her back"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("note: %d", r.Status)
	}
	if r := de.Do("POST", "/staff/enquiries/"+en.Reference+"/transfer", url.Values{"_csrf": {tok}, "to": {"fr"}, "reason": {"she moved to Lyon"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("transfer: %d", r.Status)
	}
	if r := de.Get("/staff/enquiries/" + en.Reference); r.Status != http.StatusNotFound {
		t.Errorf("after the transfer the German Red Cross still sees it: %d", r.Status)
	}
	fr := e.Browser(t)
	fr.Login("luc@croix-rouge.example", sitetest.Password)
	view := fr.Get("/staff/enquiries/" + en.Reference)
	if view.Status != 200 || !strings.Contains(view.Body, "Called her back") || !strings.Contains(view.Body, "she moved to Lyon") {
		t.Fatalf("the French Red Cross sees it with its history: %d", view.Status)
	}
	ftok := sitetest.CSRF(t, view)
	if r := fr.Do("POST", "/staff/enquiries/"+en.Reference+"/status", url.Values{"_csrf": {ftok}, "status": {"closed"}}); r.Status != http.StatusBadRequest {
		t.Errorf("closing without an outcome: %d", r.Status)
	}
	if r := fr.Do("POST", "/staff/enquiries/"+en.Reference+"/status", url.Values{"_csrf": {ftok}, "status": {"closed"}, "outcome": {"contact_restored"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("close: %d", r.Status)
	}
	ctx := context.Background()
	// Not yet past the retention period: nothing is purged.
	if n, _ := e.Store.PurgeClosed(ctx, time.Now().Add(-365*24*time.Hour)); n != 0 {
		t.Fatalf("purged %d too early", n)
	}
	if n, _ := e.Store.PurgeClosed(ctx, time.Now().Add(time.Minute)); n != 1 {
		t.Fatalf("purged %d", n)
	}
	after, _ := e.Store.EnquiryByRef(ctx, en.Reference)
	if after.Sealed != nil || after.PurgedAt == nil || after.Outcome == nil || *after.Outcome != "contact_restored" || after.Reference != en.Reference {
		t.Errorf("tombstone: %+v", after)
	}
	events, _ := e.Store.Events(ctx, en.ID)
	for _, ev := range events {
		if ev.Sealed != nil {
			t.Error("a note survived the purge")
		}
	}
	view = fr.Get("/staff/enquiries/" + en.Reference)
	if view.Status != 200 || strings.Contains(view.Body, "Amina") || strings.Contains(view.Body, "Lyon") || !strings.Contains(view.Body, "was deleted") {
		t.Errorf("a purged enquiry shows its tombstone only: %d", view.Status)
	}
}

func TestRekey(t *testing.T) {
	e := sitetest.New(t)
	a := e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	ctx := context.Background()
	var refs []store.Enquiry
	for i := 0; i < 3; i++ {
		en := e.Enquiry(t, "de", "de", store.Personal{Name: "Amina", SoughtName: "Yusuf"})
		kid, sealed := e.Keys.SealAt([]byte("note"), crypt.EnquiryEvent(en.Reference))
		if err := e.Store.AddNote(ctx, en.ID, a.ID, kid, sealed); err != nil {
			t.Fatal(err)
		}
		refs = append(refs, en)
	}
	old := e.Keys.Current()
	// The new key goes first; the old one stays to open what it sealed.
	k2 := crypt.NewKey("test2")
	next, err := crypt.Parse(k2 + "," + e.KeySpec)
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.Store.Rekey(ctx, next.Current(), func(v store.SealedValue) (string, []byte, error) {
		b, _ := crypt.BindingOf(v.Table, v.Reference)
		plain, err := next.OpenAt(v.KeyID, v.Sealed, b)
		if err != nil {
			return "", nil, err
		}
		kid, s := next.SealAt(plain, b)
		return kid, s, nil
	})
	if err != nil || n != 6 {
		t.Fatalf("rekeyed %d values, %v", n, err)
	}
	// A gallery entry's case reference and a second factor's secret are
	// sealed too, and rekeyed with the rest.
	secret := e.EnrolTOTP(t, a)
	kid, sealed := e.Keys.Seal([]byte("DRK-7"), []byte("TTF-RK001"))
	g, err := e.Store.CreateGalleryEntry(ctx, store.GalleryEntry{Ref: "TTF-RK001", Society: "de", Gender: "male", AgeGroup: "18-29",
		Seeking: []string{"father"}, Origin: "sy", CaseKeyID: kid, CaseSealed: sealed, ConsentDate: time.Now(),
		ConsentFormVersion: "v1", ConsentRecordedBy: "Ana", ReviewDate: time.Now().AddDate(1, 0, 0), CreatedBy: a.ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.Store.Rekey(ctx, next.Current(), func(v store.SealedValue) (string, []byte, error) {
		b, _ := crypt.BindingOf(v.Table, v.Reference)
		plain, err := next.OpenAt(v.KeyID, v.Sealed, b)
		if err != nil {
			return "", nil, err
		}
		kid, s := next.SealAt(plain, b)
		return kid, s, nil
	}); err != nil || n != 2 {
		t.Fatalf("gallery and second-factor rekey: %d %v", n, err)
	}
	if tf, err := e.Store.TOTPOf(ctx, a.ID); err != nil || tf.KeyID != next.Current() {
		t.Errorf("the second factor's secret is still under %s (%v)", tf.KeyID, err)
	} else if got, err := next.OpenAt(tf.KeyID, tf.Sealed, crypt.StaffTOTP(strconv.FormatInt(a.ID, 10))); err != nil || string(got) != secret {
		t.Errorf("the rekeyed secret opens to %q, %v", got, err)
	}
	g, _ = e.Store.GalleryEntryByRef(ctx, g.Ref)
	if plain, err := next.OpenAt(g.CaseKeyID, g.CaseSealed, crypt.GalleryCase(g.Ref)); err != nil || g.CaseKeyID != "test2" || string(plain) != "DRK-7" {
		t.Errorf("gallery case reference after rekey: %s %v", g.CaseKeyID, err)
	}
	// Afterwards the old key can go: the new one alone opens everything.
	only, err := crypt.Parse(k2)
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range refs {
		got, _ := e.Store.EnquiryByRef(ctx, en.Reference)
		if *got.KeyID != "test2" {
			t.Errorf("%s still under %s", en.Reference, old)
		}
		if _, err := only.OpenAt(*got.KeyID, got.Sealed, crypt.EnquiryPersonal(got.Reference)); err != nil {
			t.Error(err)
		}
		events, _ := e.Store.Events(ctx, got.ID)
		if *events[0].KeyID != "test2" {
			t.Error("a note was not rekeyed")
		}
	}
	if n, _ := e.Store.Rekey(ctx, next.Current(), nil); n != 0 {
		t.Errorf("a second rekey changed %d values", n)
	}
}

// TestRoutingForPlacesWithoutASociety follows requests from a territory
// covered by a member Society, from Nicaragua (its Society dissolved, with
// a caseworker account left behind), from Kosovo and from Oman, whose ICRC
// delegation receives requests once it has a caseworker. The country page's
// button and the confirmation name the same recipient.
func TestRoutingForPlacesWithoutASociety(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@redcross.example", "us", store.RoleCaseworker)
	e.Account(t, "old@cruzroja.example", "ni", store.RoleCaseworker)
	e.Account(t, "gulf@icrc.example", "icrc-gcc", store.RoleCaseworker)
	tests := []struct{ residence, inbox, reason, names string }{
		{"pr", "us", content.ReasonCovering, "the American Red Cross"},
		{"ni", content.CentralInbox, content.ReasonDissolved, "the International Committee of the Red Cross"},
		{"xk", content.CentralInbox, content.ReasonCentral, "the International Committee of the Red Cross"},
		{"om", "icrc-gcc", content.ReasonNoSociety, "the ICRC in the Gulf Cooperation Council countries"},
	}
	for _, tt := range tests {
		b := e.Browser(t)
		page := b.Get("/en/countries/" + tt.residence)
		if !strings.Contains(page.Body, "Send a request to \u2068"+tt.names) {
			t.Errorf("%s: the country page's button must name %q", tt.residence, tt.names)
		}
		if r := submit(t, b, "en", valid(tt.residence)); r.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d", tt.residence, r.Status)
		}
		sent := b.Get("/en/contact/sent")
		if !strings.Contains(sent.Body, tt.names) {
			t.Errorf("%s: the confirmation must name %q", tt.residence, tt.names)
		}
		list, _ := e.Store.Enquiries(context.Background(), store.EnquiryFilter{})
		if en := list[0]; en.Residence != tt.residence || en.Inbox != tt.inbox || en.RouteReason != tt.reason {
			t.Errorf("%s: routed to %s (%s), want %s (%s)", tt.residence, en.Inbox, en.RouteReason, tt.inbox, tt.reason)
		}
	}
}

// TestConfirmationWarnsAgainstScams: the confirmation, where the reference
// is shown, says in every language that nobody may ask for money.
func TestConfirmationWarnsAgainstScams(t *testing.T) {
	e := sitetest.New(t)
	for _, l := range e.Catalog.Languages() {
		b := e.Browser(t)
		if r := submit(t, b, l.Code, valid("fr")); r.Status != http.StatusSeeOther {
			t.Fatalf("%s: %d", l.Code, r.Status)
		}
		sent := b.Get("/" + l.Code + "/contact/sent")
		if !strings.Contains(sent.Body, template.HTMLEscapeString(e.Catalog.Translator(l.Code).T("ScamNotice"))) {
			t.Errorf("%s: the confirmation has no anti-scam notice", l.Code)
		}
	}
}

// TestLanguageSwitchOnlyOnPageViews: a form posted to a URL that carries
// ?switch reaches the contact form, which stores it; only a page view
// switches the language (it used to redirect the post and drop the form).
func TestLanguageSwitchOnlyOnPageViews(t *testing.T) {
	e := sitetest.New(t)
	b := e.Browser(t)
	page := b.Get("/ar/contact")
	in := valid("fr")
	in.Set("_csrf", sitetest.CSRF(t, page))
	res := b.Do("POST", "/ar/contact?switch=1", in)
	if res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/ar/contact/sent" {
		t.Fatalf("post with ?switch: %d %q, want the confirmation", res.Status, res.Header.Get("Location"))
	}
	if res := b.Get("/ar/contact?switch=1"); res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/ar/contact" {
		t.Errorf("a page view with ?switch: %d %q", res.Status, res.Header.Get("Location"))
	}
}
