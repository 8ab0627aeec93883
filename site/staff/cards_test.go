package staff_test

import (
	"context"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

func cardFields(tok string) url.Values {
	return url.Values{"_csrf": {tok}, "phones_n": {"2"}, "emails_n": {"1"}, "places_n": {"1"},
		"desk_en": {"Tracing service"}, "desk_ar": {"خدمة البحث عن المفقودين"},
		"service_tracing": {"yes"}, "service_messages": {"yes"}, "service_note_messages": {"at every branch"},
		"phone_0_number": {"030 85404-0"}, "phone_0_voice": {"yes"}, "phone_0_free": {"yes"}, "phone_0_label": {"Hotline"},
		"email_0": {"suchdienst@drk.example"}, "rfl_page": {"https://www.drk-suchdienst.de/"},
		"place_0_name": {"Suchdienst Berlin"}, "place_0_address": {"Carstennstraße 58"}, "place_0_city": {"Berlin"},
		"place_0_time_zone": {"Europe/Berlin"}, "place_0_languages": {"de, ar, ti"},
		"place_0_open_1": {"09:00"}, "place_0_close_1": {"16:00"}, "place_0_open_3": {"09:00"}, "place_0_close_3": {"18:00"},
		"note_en": {"Bring *any* document you have. [Our form](https://www.drk-suchdienst.de/form)"}}
}

// TestCardFourEyesOverHTTP: a page editor of the German Red Cross saves
// the card (numbers normalised, a bad one kept as typed with its error);
// she cannot publish it herself; a colleague does. A caseworker who is not
// a page editor, and a page editor of another Society, get 404 on every
// card route, GET and POST, as for anything that does not exist.
func TestCardFourEyesOverHTTP(t *testing.T) {
	e := sitetest.New(t)
	ctx := context.Background()
	for _, a := range []struct{ email, society string }{{"ana@drk.example", "de"}, {"ben@drk.example", "de"}, {"cas@drk.example", "de"}, {"luc@croix-rouge.example", "fr"}} {
		e.Account(t, a.email, a.society, store.RoleCaseworker)
	}
	for _, m := range []string{"ana@drk.example", "ben@drk.example", "luc@croix-rouge.example"} {
		if err := e.Store.SetPageEditor(ctx, m, true); err != nil {
			t.Fatal(err)
		}
	}
	ana := e.Browser(t)
	ana.Login("ana@drk.example", sitetest.Password)
	if home := ana.Get("/staff/"); !strings.Contains(home.Body, `href="/staff/cards/de"`) {
		t.Error("the dashboard does not lead a page editor to the card")
	}
	page := ana.Get("/staff/cards/de")
	if page.Status != http.StatusOK {
		t.Fatalf("the editor's own card: %d", page.Status)
	}
	tok := sitetest.CSRF(t, page)
	bad := cardFields(tok)
	bad.Set("phone_1_number", "call us")
	bad.Set("phone_1_voice", "yes")
	bad.Set("place_0_close_3", "08:00")
	res := ana.Do("POST", "/staff/cards/de", bad)
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `value="call us"`) || !strings.Contains(res.Body, `value="Carstennstraße 58"`) ||
		!strings.Contains(res.Body, "not a phone number") || !strings.Contains(res.Body, "closing time must come after") {
		t.Fatalf("a bad card: %d; errors shown and everything typed kept", res.Status)
	}
	if res := ana.Do("POST", "/staff/cards/de", cardFields(tok)); res.Status != http.StatusSeeOther {
		t.Fatalf("save: %d", res.Status)
	}
	hist, _ := e.Store.CardHistory(ctx, "de")
	if len(hist) != 1 || hist[0].Status != "draft" {
		t.Fatalf("history %+v", hist)
	}
	var saved cards.Card
	if err := json.Unmarshal(hist[0].Card, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Phones[0].Number != "+4930854040" || len(saved.Places[0].Hours) != 2 || saved.Places[0].Languages[2] != "ti" || saved.Desk["ar"] == "" {
		t.Errorf("stored card %+v", saved)
	}
	draft := "/staff/cards/de/" + itoa(hist[0].ID)
	page = ana.Get("/staff/cards/de")
	if strings.Contains(page.Body, `id="publish"`) {
		t.Error("the author is offered to publish her own draft")
	}
	if res := ana.Do("POST", draft+"/publish", url.Values{"_csrf": {tok}}); res.Status != http.StatusConflict {
		t.Errorf("the author published her own draft: %d", res.Status)
	}

	// Isolation: every card route, as a caseworker who is not a page
	// editor and as another Society's page editor.
	for _, who := range []string{"cas@drk.example", "luc@croix-rouge.example"} {
		b := e.Browser(t)
		b.Login(who, sitetest.Password)
		t2 := sitetest.CSRF(t, b.Get("/staff/"))
		if r := b.Get("/staff/cards/de"); r.Status != http.StatusNotFound {
			t.Errorf("%s GET /staff/cards/de: %d", who, r.Status)
		}
		for _, path := range []string{"/staff/cards/de", "/staff/cards/de/confirm", draft + "/publish", draft + "/reject", draft + "/restore"} {
			if r := b.Do("POST", path, url.Values{"_csrf": {t2}}); r.Status != http.StatusNotFound {
				t.Errorf("%s POST %s: %d", who, path, r.Status)
			}
		}
	}
	if h, _ := e.Store.CardHistory(ctx, "de"); len(h) != 1 || h[0].Status != "draft" {
		t.Fatalf("someone else changed the card: %+v", h)
	}

	ben := e.Browser(t)
	ben.Login("ben@drk.example", sitetest.Password)
	page = ben.Get("/staff/cards/de")
	if !strings.Contains(page.Body, `id="publish"`) {
		t.Fatal("a colleague is not offered to publish")
	}
	// The second person sees what publishing would change, field by field.
	if b := text(page.Body); !strings.Contains(b, `id="draft-changes"`) || !strings.Contains(b, "<td dir=\"ltr\">phones.0.number</td><td dir=\"auto\">—</td><td dir=\"auto\">+4930854040</td>") {
		t.Error("the reviewer does not see the draft's changes")
	}
	if res := ben.Do("POST", draft+"/publish", url.Values{"_csrf": {sitetest.CSRF(t, page)}}); res.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d", res.Status)
	}
	pub, _ := e.Store.PublishedCards(ctx)
	if v := pub["de"]; v.ID != hist[0].ID || !strings.Contains(v.NotesHTML["en"], `<em>any</em>`) || !strings.Contains(v.NotesHTML["en"], `rel="noopener noreferrer"`) {
		t.Errorf("published %+v", v)
	}
}

// text is a page's HTML with its character references decoded and its
// bidi isolates (FSI, PDI) dropped, for comparing with what a reader sees.
func text(body string) string {
	return strings.NewReplacer("\u2068", "", "\u2069", "").Replace(html.UnescapeString(body))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPublishedCardOnTheCountryPage: a saved draft never reaches the
// public page; once a colleague publishes it, the German Red Cross's page
// leads with it within 2 seconds, in English and in Arabic: tap-to-call and
// mail links, the hours with CLDR's weekday names and times, the desk's
// name in the page's language, the note as sanitised HTML, the services it
// offers with its note, and who provided it and when.
func TestPublishedCardOnTheCountryPage(t *testing.T) {
	e := sitetest.New(t)
	ctx := context.Background()
	for _, m := range []string{"ana@drk.example", "ben@drk.example"} {
		e.Account(t, m, "de", store.RoleCaseworker)
		if err := e.Store.SetPageEditor(ctx, m, true); err != nil {
			t.Fatal(err)
		}
	}
	visitor := e.Browser(t)
	ana := e.Browser(t)
	ana.Login("ana@drk.example", sitetest.Password)
	tok := sitetest.CSRF(t, ana.Get("/staff/cards/de"))
	if res := ana.Do("POST", "/staff/cards/de", cardFields(tok)); res.Status != http.StatusSeeOther {
		t.Fatalf("save: %d", res.Status)
	}
	if page := visitor.Get("/en/countries/de"); page.Status != http.StatusOK || strings.Contains(page.Body, "tel:") || strings.Contains(page.Body, "Tracing service") {
		t.Fatalf("a draft reached the public page (%d)", page.Status)
	}
	ben := e.Browser(t)
	ben.Login("ben@drk.example", sitetest.Password)
	page := ben.Get("/staff/cards/de")
	hist, _ := e.Store.CardHistory(ctx, "de")
	if res := ben.Do("POST", "/staff/cards/de/"+itoa(hist[0].ID)+"/publish", url.Values{"_csrf": {sitetest.CSRF(t, page)}}); res.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d", res.Status)
	}
	published := time.Now()
	var en string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		en = text(visitor.Get("/en/countries/de").Body)
		if strings.Contains(en, "tel:") || time.Now().After(deadline) {
			break
		}
	}
	if d := time.Since(published); !strings.Contains(en, "tel:") {
		t.Fatalf("the card is not on the page %v after publishing", d)
	}
	for _, want := range []string{
		`href="tel:+4930854040"`, `>+49 30 854040<`, "Hotline", "free of charge",
		`href="mailto:suchdienst@drk.example"`, `href="https://www.drk-suchdienst.de/"`,
		"Tracing service", "Suchdienst Berlin", "Carstennstraße 58",
		"Monday", "9:00\u202fAM–4:00\u202fPM", "Wednesday", "9:00\u202fAM–6:00\u202fPM", "Tigrinya",
		"<em>any</em>", `rel="noopener noreferrer"`, "at every branch",
		"Provided by the German Red Cross on " + e.Catalog.Translator("en").Date(published),
	} {
		if !strings.Contains(en, want) {
			t.Errorf("the English page lacks %q", want)
		}
	}
	if strings.Contains(en, "Ask the German Red Cross which of them it offers") && !strings.Contains(en, "also offers") {
		t.Error("the page still says the Society's services are unknown")
	}
	checkJSONLD(t, en)
	checkDirectory(t, e, ana)
	ar := text(visitor.Get("/ar/countries/de").Body)
	for _, want := range []string{"خدمة البحث عن المفقودين", "الاثنين", "9:00 ص–4:00 م", `href="tel:+4930854040"`, "التغرينية"} {
		if !strings.Contains(ar, want) {
			t.Errorf("the Arabic page lacks %q", want)
		}
	}
}

// checkJSONLD holds the page's schema.org description to what the page
// shows: the Society's name, each phone and e-mail as a link a reader can
// use, each place with its address and the hours of the card.
func checkJSONLD(t *testing.T, page string) {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/ld\+json">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no JSON-LD on the page")
	}
	var d struct {
		Type         string                `json:"@type"`
		Name         string                `json:"name"`
		AreaServed   struct{ Name string } `json:"areaServed"`
		ContactPoint []struct {
			ContactType, Telephone, Email, URL string
		} `json:"contactPoint"`
		Location []struct {
			Name    string `json:"name"`
			Address struct {
				Street string `json:"streetAddress"`
			} `json:"address"`
			Hours []struct {
				Day    string `json:"dayOfWeek"`
				Opens  string `json:"opens"`
				Closes string `json:"closes"`
			} `json:"openingHoursSpecification"`
		} `json:"location"`
	}
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("JSON-LD: %v: %s", err, m[1])
	}
	if d.Type != "NGO" || d.Name != "German Red Cross" || d.AreaServed.Name != "Germany" || !strings.Contains(page, "<bdi>"+d.Name+"</bdi>") {
		t.Errorf("JSON-LD names %s %q serving %q", d.Type, d.Name, d.AreaServed.Name)
	}
	var phones, mails int
	for _, c := range d.ContactPoint {
		switch {
		case c.Telephone != "":
			phones++
			if !strings.Contains(page, `href="tel:`+c.Telephone+`"`) {
				t.Errorf("JSON-LD phone %s is not on the page", c.Telephone)
			}
		case c.Email != "":
			mails++
			if !strings.Contains(page, `href="mailto:`+c.Email+`"`) {
				t.Errorf("JSON-LD e-mail %s is not on the page", c.Email)
			}
		case c.URL != "":
			if !strings.Contains(page, `href="`+c.URL+`"`) {
				t.Errorf("JSON-LD link %s is not on the page", c.URL)
			}
		}
	}
	if phones != strings.Count(page, `href="tel:`) || mails != strings.Count(page, `href="mailto:`) {
		t.Errorf("JSON-LD has %d phones and %d e-mails; the page links %d and %d", phones, mails, strings.Count(page, `href="tel:`), strings.Count(page, `href="mailto:`))
	}
	if len(d.Location) != 1 || !strings.Contains(page, d.Location[0].Name) || !strings.Contains(page, d.Location[0].Address.Street) || len(d.Location[0].Hours) != 2 ||
		d.Location[0].Hours[0].Day != "https://schema.org/Monday" || d.Location[0].Hours[0].Opens != "09:00" || d.Location[0].Hours[0].Closes != "16:00" {
		t.Errorf("JSON-LD places %+v", d.Location)
	}
}

// TestStaleCardNoticeAndReminder: a card nobody has confirmed for a year
// says so on its public page, in the page's language, and the Society's
// page editors (not its other caseworkers) get one reminder with no
// personal data, each in the language of their back office (an Arabic
// speaker's in Arabic); "still correct" takes the notice away.
func TestStaleCardNoticeAndReminder(t *testing.T) {
	e := sitetest.New(t)
	ctx := context.Background()
	ana := e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	ben := e.Account(t, "ben@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "cas@drk.example", "de", store.RoleCaseworker)
	for _, m := range []string{ana.Email, ben.Email} {
		if err := e.Store.SetPageEditor(ctx, m, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Store.SetLanguage(ctx, ben.ID, "ar"); err != nil {
		t.Fatal(err)
	}
	v, err := e.Store.SaveCardDraft(ctx, "de", json.RawMessage(`{"emails":["suchdienst@drk.example"]}`), nil, store.CardActor{StaffID: ana.ID, Email: ana.Email})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.PublishCard(ctx, v.ID, nil, store.CardActor{StaffID: ben.ID, Email: ben.Email}); err != nil {
		t.Fatal(err)
	}
	cleanup := &store.Cleanup{Store: e.Store}
	if r, err := cleanup.RunOnce(ctx); err != nil || r.CardReminders != 0 {
		t.Fatalf("a fresh card got %d reminders (%v)", r.CardReminders, err)
	}
	// A year passes: the dates move back, and the change is announced as
	// a publish would announce it.
	if _, err := e.Store.Pool().Exec(ctx, `UPDATE society_cards SET decided_at = '2025-10-01', confirmed_at = '2025-11-02' WHERE id = $1`, v.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Store.Pool().Exec(ctx, `SELECT pg_notify($1, 'de')`, store.CardsChannel); err != nil {
		t.Fatal(err)
	}
	visitor := e.Browser(t)
	page := func(lang, want string) bool {
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if strings.Contains(text(visitor.Get("/"+lang+"/countries/de").Body), want) {
				return true
			}
		}
		return false
	}
	if !page("en", "German Red Cross last confirmed these details on November 2, 2025. They may have changed") {
		t.Error("the English page does not say the card is old")
	}
	if !page("fr", "2 novembre 2025") {
		t.Error("the French page does not give the date of the last confirmation in French")
	}
	r, err := cleanup.RunOnce(ctx)
	if err != nil || r.CardReminders != 1 {
		t.Fatalf("reminders queued: %d (%v), want 1", r.CardReminders, err)
	}
	if r, _ := cleanup.RunOnce(ctx); r.CardReminders != 0 {
		t.Errorf("a second round queued %d more reminders", r.CardReminders)
	}
	mailer := &sitetest.Mailbox{}
	w := &store.Worker{Store: e.Store, Handlers: map[string]store.OutboxHandler{
		store.TopicCardStale: cards.ReminderHandler(e.Catalog, e.Store, mailer, e.Data.InboxName, sitetest.BaseURL, slog.New(slog.DiscardHandler)),
	}}
	if n, err := w.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("worker: %d, %v", n, err)
	}
	sent := mailer.All()
	if len(sent) != 2 || sent[0].To != ana.Email || sent[1].To != ben.Email {
		t.Fatalf("reminders went to %+v, want the two page editors", sent)
	}
	confirmed := time.Date(2025, 11, 2, 0, 0, 0, 0, time.UTC)
	for i, lang := range []string{"en", "ar"} { // Ana's back office is in English, Ben's in Arabic
		m, tr := sent[i], e.Catalog.Translator(lang)
		if !strings.Contains(m.Body, "German Red Cross") || !strings.Contains(m.Body, tr.Date(confirmed)) || !strings.Contains(m.Body, sitetest.BaseURL+"/staff/cards/de") ||
			strings.Contains(m.Body, "suchdienst@") || strings.Contains(m.Body, ana.Email) || strings.Contains(m.Body, ben.Email) {
			t.Errorf("reminder to %s: %q", m.To, m.Body)
		}
		if want := tr.T("StaffReminderMailSubject", "Society", "German Red Cross"); m.Subject != want {
			t.Errorf("reminder to %s: subject %q, want %q", m.To, m.Subject, want)
		}
		if !strings.Contains(m.Body, tr.T("StaffCardStillCorrect")) {
			t.Errorf("reminder to %s does not name the button as the card page does: %q", m.To, m.Body)
		}
	}
	if ar := sent[1]; !strings.Contains(ar.Subject, "يُرجى مراجعة بطاقة الاتصال") || strings.Contains(ar.Body, "Please check") {
		t.Errorf("the reminder to an Arabic-speaking page editor is not in Arabic: %q %q", ar.Subject, ar.Body)
	}
	if _, err := e.Store.ConfirmCard(ctx, "de", store.CardActor{StaffID: ana.ID, Email: ana.Email}); err != nil {
		t.Fatal(err)
	}
	if !page("en", "Last confirmed on "+e.Catalog.Translator("en").Date(time.Now())) {
		t.Error("after 'still correct' the page does not give the new date")
	}
	if strings.Contains(text(visitor.Get("/en/countries/de").Body), "may have changed") {
		t.Error("the notice stays after the card was confirmed")
	}
}

// checkDirectory: the open directory has the published card, with CORS
// and an ETag, and nothing about the people who saved or published it; a
// newer draft does not reach it.
func checkDirectory(t *testing.T, e *sitetest.Env, editor *sitetest.Browser) {
	t.Helper()
	api := e.Browser(t)
	one := api.Get("/api/v1/directory/de.json")
	if one.Status != http.StatusOK || one.Header.Get("Access-Control-Allow-Origin") != "*" || one.Header.Get("ETag") == "" ||
		!strings.HasPrefix(one.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/v1/directory/de.json: %d %v", one.Status, one.Header)
	}
	var entry struct {
		ISO2    string
		Society struct{ Name string }
		Card    *struct {
			Phones []struct{ Number string }
			Emails []string
			Desk   map[string]string
		}
	}
	if err := json.Unmarshal([]byte(one.Body), &entry); err != nil {
		t.Fatal(err)
	}
	if entry.ISO2 != "de" || entry.Society.Name != "German Red Cross" || entry.Card == nil || len(entry.Card.Phones) != 1 || entry.Card.Phones[0].Number != "+4930854040" || entry.Card.Desk["ar"] == "" {
		t.Fatalf("directory entry %s", one.Body)
	}
	for _, personal := range []string{"ana@drk.example", "ben@drk.example", "saved_by", "decided_by", "staff"} {
		if strings.Contains(one.Body, personal) {
			t.Errorf("the directory shows %q", personal)
		}
	}
	all := api.Get("/api/v1/directory.json")
	if all.Status != http.StatusOK || !strings.Contains(all.Body, `"+4930854040"`) || strings.Contains(all.Body, "ana@drk.example") {
		t.Errorf("GET /api/v1/directory.json: %d", all.Status)
	}
	// A newer draft, with another number, stays in the back office.
	form := cardFields(sitetest.CSRF(t, editor.Get("/staff/cards/de")))
	form.Set("phone_0_number", "+49 30 1234567")
	if res := editor.Do("POST", "/staff/cards/de", form); res.Status != http.StatusSeeOther {
		t.Fatalf("saving a second draft: %d", res.Status)
	}
	time.Sleep(200 * time.Millisecond)
	for _, path := range []string{"/api/v1/directory/de.json", "/api/v1/directory.json", "/en/countries/de"} {
		if body := text(api.Get(path).Body); strings.Contains(body, "301234567") || strings.Contains(body, "30 1234567") {
			t.Errorf("%s shows the draft's number", path)
		}
	}
	if res := api.Get("/api/v1/directory/zz.json"); res.Status != http.StatusNotFound {
		t.Errorf("an unknown place: %d", res.Status)
	}
}

// TestAuditTrailForAdministrators: an administrator finds who opened an
// enquiry, on the enquiry itself and in the audit trail filtered by its
// reference, and exports that view as CSV (the export is itself audited);
// a caseworker gets 404 on both routes; a bad date comes back with the
// filter as typed.
func TestAuditTrailForAdministrators(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "admin@familylinks.example", "", store.RoleAdmin)
	en := e.Enquiry(t, "de", "de", store.Personal{Name: "Amina", SoughtName: "Yusuf"})
	ana := e.Browser(t)
	ana.Login("ana@drk.example", sitetest.Password)
	if p := ana.Get("/staff/enquiries/" + en.Reference); p.Status != http.StatusOK {
		t.Fatalf("the caseworker opens the enquiry: %d", p.Status)
	}
	for _, path := range []string{"/staff/audit", "/staff/audit.csv", "/staff/audit?object=" + en.Reference} {
		if p := ana.Get(path); p.Status != http.StatusNotFound {
			t.Errorf("a caseworker GET %s: %d, want 404", path, p.Status)
		}
	}
	admin := e.Browser(t)
	admin.Login("admin@familylinks.example", sitetest.Password)
	if home := admin.Get("/staff/"); !strings.Contains(home.Body, `href="/staff/audit"`) {
		t.Error("the dashboard does not lead an administrator to the audit trail")
	}
	page := admin.Get("/staff/enquiries/" + en.Reference)
	if !strings.Contains(page.Body, `id="seen-by"`) || !strings.Contains(page.Body, "ana@drk.example") {
		t.Error("the enquiry does not say who saw it")
	}
	trail := admin.Get("/staff/audit?object=" + en.Reference)
	if trail.Status != http.StatusOK || strings.Count(trail.Body, "enquiry.view") != 2 || strings.Contains(trail.Body, "login") {
		t.Errorf("the trail filtered by reference: %d, %d views", trail.Status, strings.Count(trail.Body, "enquiry.view"))
	}
	if !strings.Contains(trail.Body, `href="/staff/audit.csv?object=`+en.Reference+`"`) {
		t.Error("the export link does not carry the filter")
	}
	if byPerson := admin.Get("/staff/audit?actor=ana@drk.example&action=enquiry."); !strings.Contains(byPerson.Body, en.Reference) || strings.Contains(byPerson.Body, "audit.view") || strings.Contains(byPerson.Body, ">login<") {
		t.Error("the trail filtered by person and action prefix")
	}
	bad := admin.Get("/staff/audit?from=yesterday&actor=ana@drk.example")
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "is not a date") || !strings.Contains(bad.Body, `value="yesterday"`) {
		t.Errorf("a bad date: %d", bad.Status)
	}
	csv := admin.Get("/staff/audit.csv?object=" + en.Reference)
	if csv.Status != http.StatusOK || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") || strings.Count(csv.Body, "enquiry.view") != 2 {
		t.Errorf("CSV: %d %q\n%s", csv.Status, csv.Header.Get("Content-Type"), csv.Body)
	}
	// The same for a Trace the Face entry.
	e.Account(t, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "b@drk.example", "de", store.RoleCaseworker)
	entry := e.Publish(t, "TTF-7Q4K2", "female", "af", "mother")
	// Publish leaves the case reference unsealed (the privacy walk looks
	// for it in clear); the back office opens it, so seal it.
	kid, sealed := e.Keys.SealAt([]byte("DRK-CASE-1"), crypt.GalleryCase(entry.Ref))
	if _, err := e.Store.Pool().Exec(context.Background(), `UPDATE gallery_entries SET case_key_id = $1, case_sealed = $2 WHERE id = $3`, kid, sealed, entry.ID); err != nil {
		t.Fatal(err)
	}
	b := e.Browser(t)
	b.Login("b@drk.example", sitetest.Password)
	if p := b.Get("/staff/gallery/" + entry.Ref); p.Status != http.StatusOK || strings.Contains(p.Body, `id="seen-by"`) {
		t.Fatalf("a caseworker opens the entry: %d (and is not shown who saw it)", p.Status)
	}
	if p := admin.Get("/staff/gallery/" + entry.Ref); !strings.Contains(p.Body, `id="seen-by"`) || !strings.Contains(p.Body, "b@drk.example") {
		t.Error("the gallery entry does not say who saw it")
	}
	exports, err := e.Store.AuditEntries(context.Background(), store.AuditFilter{Action: "audit.export"})
	if err != nil || len(exports) != 1 || exports[0].Actor != "admin@familylinks.example" {
		t.Errorf("the export is not in the audit log: %v %v", exports, err)
	}
}
