package staff_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/familylinks/familylinks/site/cards"
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
	if res := ben.Do("POST", draft+"/publish", url.Values{"_csrf": {sitetest.CSRF(t, page)}}); res.Status != http.StatusSeeOther {
		t.Fatalf("publish: %d", res.Status)
	}
	pub, _ := e.Store.PublishedCards(ctx)
	if v := pub["de"]; v.ID != hist[0].ID || !strings.Contains(v.NotesHTML["en"], `<em>any</em>`) || !strings.Contains(v.NotesHTML["en"], `rel="noopener noreferrer"`) {
		t.Errorf("published %+v", v)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
