package cards

import (
	"context"
	"encoding/json"
	"time"

	"github.com/familylinks/familylinks/site/store"
)

// Examples are the two example drafts `familylinks dev` seeds so that the
// back office has something to show: each says it is an example, and the
// database refuses to publish either, so the public never sees them.
//
//   - Panama: only what the ICRC's article of 10 May 2023 says the Red Cross
//     Society of Panama offers (calls and messages for migrants in Darién,
//     with the ICRC); no number, address or desk name, since no source
//     gives one.
//   - United Kingdom: every field filled, with a London number from the
//     range Ofcom keeps for drama (020 7946 0xxx) and addresses that do not
//     exist.
var Examples = map[string]Card{
	"pa": {
		Services: []Offer{
			{Service: "calls", Note: "For migrants in Darién, with the ICRC (ICRC, 10 May 2023)"},
			{Service: "messages", Note: "For migrants in Darién, with the ICRC (ICRC, 10 May 2023)"},
		},
		Notes: map[string]string{"en": "EXAMPLE draft, seeded from the ICRC article of 10 May 2023 on calls and messages in Darién. It holds only what that source says; the Society's own desk, numbers and places are for its staff to add. An example can never be published: save your own card to replace it."},
	},
	"gb": {
		Desk:     map[string]string{"en": "EXAMPLE family tracing desk (not real details)"},
		Services: []Offer{{Service: "tracing"}, {Service: "messages"}},
		Phones:   []Phone{{Number: "+442079460000", Label: "EXAMPLE (Ofcom drama range)", Voice: true, Free: true}},
		Emails:   []string{"tracing@example.org"},
		Places: []Place{{Name: "EXAMPLE office", Address: "1 Example Street", City: "London", TimeZone: "Europe/London",
			Languages: []string{"en", "ar", "so"}, Access: "EXAMPLE: step-free entrance",
			Hours: []Hours{{Day: time.Monday, Open: "09:00", Close: "17:00"}, {Day: time.Wednesday, Open: "09:00", Close: "17:00"}, {Day: time.Friday, Open: "09:00", Close: "13:00"}}}},
		Notes: map[string]string{"en": "EXAMPLE card showing every field of the back office. The number is in the range Ofcom keeps for drama and the address does not exist. An example can never be published."},
	},
}

// SeedExamples saves the example drafts for Societies that have no card
// yet, as the disabled demo account; it returns how many it saved.
func SeedExamples(ctx context.Context, st *store.Store) (int, error) {
	a, err := st.DemoStaff(ctx, "demo-publisher@familylinks.invalid", "ch")
	if err != nil {
		return 0, err
	}
	n := 0
	for society, c := range Examples {
		raw, err := json.Marshal(c)
		if err != nil {
			return n, err
		}
		made, err := st.SaveExampleCard(ctx, society, raw, store.CardActor{StaffID: a.ID, Email: a.Email})
		if err != nil {
			return n, err
		}
		if made {
			n++
		}
	}
	return n, nil
}
