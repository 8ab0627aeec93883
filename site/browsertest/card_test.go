package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/store"
)

// testCard is a card for the browser tests only: it never reaches a real
// site (the numbers are the test's, not a Society's).
var testCard = cards.Card{
	Desk:     map[string]string{"en": "Tracing service", "ar": "خدمة البحث عن المفقودين"},
	Services: []cards.Offer{{Service: "tracing"}, {Service: "phone", Note: "at the reception centre"}},
	Phones:   []cards.Phone{{Number: "+4930854040", Label: "Hotline", Voice: true, Free: true}, {Number: "+491701234567", WhatsApp: true, SMS: true}},
	Emails:   []string{"suchdienst@drk.example"},
	RFLPage:  "https://www.drk-suchdienst.de/",
	Places: []cards.Place{{Name: "Suchdienst Berlin", Address: "Carstennstraße 58", City: "12205 Berlin", TimeZone: "Europe/Berlin",
		Languages: []string{"de", "ar", "ti"},
		Hours:     everyDay("09:00", "17:00")}},
	Notes: map[string]string{"en": "Bring *any* document you have."},
}

func everyDay(open, close string) []cards.Hours {
	var h []cards.Hours
	for d := 0; d < 7; d++ {
		h = append(h, cards.Hours{Day: time.Weekday(d), Open: open, Close: close})
	}
	return h
}

// publishTestCard saves testCard as one page editor and publishes it as
// another, as the back office does, and waits until the site shows it.
func publishTestCard(t *testing.T, s *liveSite, society string) {
	t.Helper()
	ctx := context.Background()
	a := s.Env.Account(t, "ana@"+society+".example", society, store.RoleCaseworker)
	b := s.Env.Account(t, "ben@"+society+".example", society, store.RoleCaseworker)
	raw, err := json.Marshal(testCard)
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.Env.Store.SaveCardDraft(ctx, society, raw, nil, store.CardActor{StaffID: a.ID, Email: a.Email})
	if err != nil {
		t.Fatal(err)
	}
	html, _ := cards.RenderNote(testCard.Notes["en"])
	if _, err := s.Env.Store.PublishCard(ctx, v.ID, map[string]string{"en": string(html)}, store.CardActor{StaffID: b.ID, Email: b.Email}); err != nil {
		t.Fatal(err)
	}
}

// TestSocietyCardOnAPhone: a published card leads the country page at
// 360 px in English, Arabic and Tigrinya:
// numbers to tap, today's hours marked once, nothing wider than the
// screen; printed, the card is there with its numbers in full.
func TestSocietyCardOnAPhone(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	publishTestCard(t, s, "de")
	// Without JavaScript the page is the same bytes (the site sends none);
	// TestJourneyCard takes that path.
	for _, lang := range []string{"en", "ar", "ti"} {
		name := "Card-" + lang
		t.Run(name, func(t *testing.T) {
			b := newTab(t, s, name, true)
			b.phoneOnly = true
			b.Go("/" + lang + "/countries/de")
			for deadline := 0; !b.Has(".society-card") && deadline < 40; deadline++ {
				b.Go("/" + lang + "/countries/de") // the copy of the cards reloads in the background
			}
			if !b.Has(`.society-card a[href="tel:+4930854040"]`) || !b.Has(`.society-card a[href="https://wa.me/491701234567"]`) ||
				!b.Has(`.society-card a[href="mailto:suchdienst@drk.example"]`) {
				t.Fatalf("the card's links are missing: %s", b.Text("main"))
			}
			var today int
			b.run(chromedp.Evaluate(`document.querySelectorAll(".hours tr.today").length`, &today))
			if today != 1 {
				t.Errorf("%d rows marked as today, want 1", today)
			}
			// The card comes before the services and the ICRC.
			var first bool
			b.run(chromedp.Evaluate(`document.querySelector(".society-card").compareDocumentPosition(document.querySelector("#svc-h")) === Node.DOCUMENT_POSITION_FOLLOWING`, &first))
			if !first {
				t.Error("the card does not lead the page")
			}
			b.fitsWidth()
			b.Shot("country-de")
			var printed string
			b.run(emulation.SetEmulatedMedia().WithMedia("print"),
				chromedp.Evaluate(`(() => { const c = document.querySelector(".society-card"); return getComputedStyle(c).display === "none" ? "" : c.innerText; })()`, &printed),
				emulation.SetEmulatedMedia().WithMedia(""))
			if !strings.Contains(printed, "+49 30 854040") || !strings.Contains(printed, "Carstennstraße 58") {
				t.Errorf("printed, the card reads %q", printed)
			}
		})
	}
}

// TestJourneyCard: a German Red Cross page editor adds a hotline and a
// walk-in place with hours in the back office; a second editor publishes
// it; the country page in the journey's language leads with the card, with
// today's hours marked in that language; the open directory has it. In
// English and Arabic, without JavaScript.
func TestJourneyCard(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	for _, m := range []string{"ed1@drk.example", "ed2@drk.example"} {
		s.Env.Account(t, m, "de", store.RoleCaseworker)
		if err := s.Env.Store.SetPageEditor(context.Background(), m, true); err != nil {
			t.Fatal(err)
		}
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for i, lang := range journeyLangs {
		t.Run(lang, func(t *testing.T) {
			number := fmt.Sprintf("+49 30 85404%02d", 10+i) // each language publishes its own
			tel := "tel:" + strings.ReplaceAll(number, " ", "")
			ed1 := newTab(t, s, tabName(t)+"-editor", false)
			ed1.login("ed1@drk.example")
			ed1.Go("/staff/cards/de")
			ed1.Replace("#phone_0_number", number)
			ed1.Replace("#phone_0_label", "Hotline")
			ed1.Click(`input[name="phone_0_free"]`)
			ed1.Replace("#place_0_name", "Suchdienst Berlin")
			ed1.Replace("#place_0_address", "Carstennstraße 58")
			ed1.Replace("#place_0_city", "12205 Berlin")
			ed1.Replace("#place_0_time_zone", "Europe/Berlin")
			ed1.Replace("#place_0_languages", "de, ar")
			for d := 0; d < 7; d++ {
				ed1.Replace(fmt.Sprintf(`input[name="place_0_open_%d"]`, d), "09:00")
				ed1.Replace(fmt.Sprintf(`input[name="place_0_close_%d"]`, d), "17:00")
			}
			ed1.Shot("card-form")
			ed1.Follow("#save")
			if !strings.Contains(ed1.Path(), "saved=1") || ed1.Has("#publish") {
				t.Fatalf("after saving: %s (the author must not be offered to publish)", ed1.Path())
			}
			ed2 := newTab(t, s, tabName(t)+"-reviewer", false)
			ed2.login("ed2@drk.example")
			ed2.Go("/staff/cards/de")
			if !strings.Contains(ed2.Text("#draft-changes"), strings.ReplaceAll(number, " ", "")) {
				t.Errorf("the reviewer does not see the new number among the changes: %s", ed2.Text("#draft-changes"))
			}
			ed2.Follow("#publish")
			if !strings.Contains(ed2.Path(), "published=1") {
				t.Fatalf("publishing: %s", ed2.Path())
			}
			visitor := newTab(t, s, tabName(t), false)
			waitFor(t, visitor, "/"+lang+"/countries/de", func() bool { return visitor.Has(`.society-card a[href="` + tel + `"]`) })
			checkPage(t, visitor, lang)
			today := s.Env.Catalog.Translator(lang).Weekday(time.Now().In(berlin).Weekday())
			if got := visitor.Text(".hours tr.today th"); !strings.Contains(got, today) {
				t.Errorf("today's row reads %q, want %q", got, today)
			}
			if got := visitor.Text(".hours tr.today td"); !strings.Contains(got, s.Env.Catalog.Translator(lang).Clock("09:00")) {
				t.Errorf("today's hours read %q", got)
			}
			visitor.Shot("country-card")
			res, err := http.Get(s.URL + "/api/v1/directory/de.json")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(body), `"`+strings.ReplaceAll(number, " ", "")+`"`) || !strings.Contains(string(body), "Suchdienst Berlin") {
				t.Errorf("the directory does not have the card: %s", body)
			}
		})
	}
}
