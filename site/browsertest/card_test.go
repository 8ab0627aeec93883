package browsertest

import (
	"context"
	"encoding/json"
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
// 360 px in English, Arabic and Tigrinya, with and without JavaScript:
// numbers to tap, today's hours marked once, nothing wider than the
// screen; printed, the card is there with its numbers in full.
func TestSocietyCardOnAPhone(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	publishTestCard(t, s, "de")
	for _, lang := range []string{"en", "ar", "ti"} {
		for _, js := range []bool{true, false} {
			name := "Card-" + lang
			if !js {
				name += "-nojs"
			}
			t.Run(name, func(t *testing.T) {
				b := newTab(t, s, name, js)
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
}
