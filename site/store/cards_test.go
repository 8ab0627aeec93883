package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
)

// TestSocietyCardFourEyes follows a card against PostgreSQL: one editor
// saves, the same editor cannot publish (the store refuses and so does the
// table), a colleague publishes; a new draft leaves the published card in
// place until it is published in turn; history keeps every version, an old
// one is restored as a draft, a draft is rejected, and every step is in the
// audit log with the cards it changed.
func TestSocietyCardFourEyes(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	ana, err := s.CreateStaff(ctx, "ana@drk.example", "de", store.RoleCaseworker, "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	ben, err := s.CreateStaff(ctx, "ben@drk.example", "de", store.RoleCaseworker, "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	byAna, byBen := store.CardActor{StaffID: ana.ID, Email: ana.Email}, store.CardActor{StaffID: ben.ID, Email: ben.Email}
	v1 := json.RawMessage(`{"phones":[{"number":"+4930854040","voice":true}]}`)
	d1, err := s.SaveCardDraft(ctx, "de", v1, nil, byAna)
	if err != nil || d1.Status != "draft" {
		t.Fatalf("save: %+v %v", d1, err)
	}
	if _, err := s.PublishCard(ctx, d1.ID, nil, byAna); !errors.Is(err, store.ErrSamePerson) {
		t.Fatalf("the author published their own draft: %v", err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE society_cards SET status = 'published', decided_by = saved_by WHERE id = $1`, d1.ID); err == nil {
		t.Fatal("the table let a draft be published by its author")
	}
	if cards, _ := s.PublishedCards(ctx); len(cards) != 0 {
		t.Fatalf("a draft is public: %v", cards)
	}
	p1, err := s.PublishCard(ctx, d1.ID, map[string]string{"en": "<p>Hi</p>"}, byBen)
	if err != nil || p1.Status != "published" || p1.ConfirmedAt == nil || p1.NotesHTML["en"] != "<p>Hi</p>" {
		t.Fatalf("publish: %+v %v", p1, err)
	}
	if _, err := s.PublishCard(ctx, d1.ID, nil, byBen); !errors.Is(err, store.ErrNotDraft) {
		t.Errorf("published twice: %v", err)
	}

	v2 := json.RawMessage(`{"phones":[{"number":"+4930854040","voice":true,"free":true}],"emails":["suchdienst@drk.example"]}`)
	d2, err := s.SaveCardDraft(ctx, "de", v2, nil, byBen)
	if err != nil {
		t.Fatal(err)
	}
	cards, _ := s.PublishedCards(ctx)
	if cards["de"].ID != p1.ID {
		t.Fatalf("a new draft must leave the published card public until it is published: %+v", cards["de"])
	}
	if _, err := s.PublishCard(ctx, d2.ID, nil, byAna); err != nil {
		t.Fatal(err)
	}
	cards, _ = s.PublishedCards(ctx)
	if cards["de"].ID != d2.ID {
		t.Fatalf("the second version is not the public one: %+v", cards["de"])
	}

	r, err := s.SaveCardDraft(ctx, "de", p1.Card, &p1.ID, byAna)
	if err != nil || r.RestoredFrom == nil || *r.RestoredFrom != p1.ID {
		t.Fatalf("restore: %+v %v", r, err)
	}
	if err := s.RejectCard(ctx, r.ID, "the hotline is not free", byBen); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmCard(ctx, "de", byBen); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmCard(ctx, "fr", byBen); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("confirming a card that does not exist: %v", err)
	}
	hist, err := s.CardHistory(ctx, "de")
	if err != nil {
		t.Fatal(err)
	}
	var statuses []string
	for _, v := range hist {
		statuses = append(statuses, v.Status)
	}
	if got := statuses; len(got) != 3 || got[0] != "rejected" || got[1] != "published" || got[2] != "superseded" {
		t.Errorf("history %v, want [rejected published superseded]", got)
	}
	log, err := s.AuditLog(ctx, 20)
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	savesAfterPublish := 0
	for _, e := range log {
		if e.ObjectType == "card" {
			actions[e.Action]++
			if e.Action == "card.publish" && e.Detail["after"] == nil {
				t.Error("a publication's audit line must hold what was published")
			}
			if e.Action == "card.save" && e.Detail["card"] != nil && e.Detail["before"] != nil {
				savesAfterPublish++
			}
		}
	}
	// The first save comes before any publication; the second is saved
	// beside the published card, so the line shows what it changes.
	if savesAfterPublish != 1 {
		t.Errorf("%d save lines hold the published card beside the draft, want 1", savesAfterPublish)
	}
	if actions["card.save"] != 2 || actions["card.publish"] != 2 || actions["card.restore"] != 1 || actions["card.reject"] != 1 || actions["card.confirm"] != 1 {
		t.Errorf("audit lines %v", actions)
	}
}

// TestExampleCardNeverPublished: an example draft is seeded only where a
// Society has no card, and neither the store nor the table lets anyone
// publish it; a real draft saved over it replaces it.
func TestExampleCardNeverPublished(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	demo, err := s.DemoStaff(ctx, "demo-publisher@familylinks.invalid", "ch")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := s.DemoStaff(ctx, "demo-publisher@familylinks.invalid", "ch"); err != nil || again.ID != demo.ID || again.DisabledAt == nil {
		t.Fatalf("demo account: %+v %v", again, err)
	}
	admin, err := s.CreateStaff(ctx, "admin@familylinks.example", "", store.RoleAdmin, "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	byDemo, byAdmin := store.CardActor{StaffID: demo.ID, Email: demo.Email}, store.CardActor{StaffID: admin.ID, Email: admin.Email}
	if made, err := s.SaveExampleCard(ctx, "pa", json.RawMessage(`{"notes":{"en":"EXAMPLE"}}`), byDemo); err != nil || !made {
		t.Fatalf("seed: %v %v", made, err)
	}
	if made, err := s.SaveExampleCard(ctx, "pa", json.RawMessage(`{}`), byDemo); err != nil || made {
		t.Fatalf("a second seed: %v %v", made, err)
	}
	h, _ := s.CardHistory(ctx, "pa")
	if len(h) != 1 || !h[0].Example || h[0].Status != "draft" {
		t.Fatalf("history %+v", h)
	}
	if _, err := s.PublishCard(ctx, h[0].ID, nil, byAdmin); !errors.Is(err, store.ErrExample) {
		t.Errorf("publishing an example: %v, want ErrExample", err)
	}
	if _, err := s.Pool().Exec(ctx, `UPDATE society_cards SET status = 'published', decided_by = $2 WHERE id = $1`, h[0].ID, admin.ID); err == nil {
		t.Error("the table let an example be published")
	}
	if pub, _ := s.PublishedCards(ctx); len(pub) != 0 {
		t.Fatalf("published: %v", pub)
	}
	if _, err := s.SaveCardDraft(ctx, "pa", json.RawMessage(`{"emails":["a@b.example"]}`), nil, byAdmin); err != nil {
		t.Fatal(err)
	}
	h, _ = s.CardHistory(ctx, "pa")
	if len(h) != 2 || h[0].Example || h[0].Status != "draft" || h[1].Status != "superseded" {
		t.Errorf("after a real draft: %+v", h)
	}
}

// TestAuditLogAppendOnly: whoever connects, an audit entry cannot be
// changed, nor deleted before it is a year old, nor the table truncated;
// the cleanup can still forget an old entry's address and delete entries
// past their keep. The filters of the audit page find what they should.
func TestAuditLogAppendOnly(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	db := s.Pool()
	soc := "de"
	for _, e := range []store.AuditEntry{
		{Actor: "ana@drk.example", Society: &soc, Action: "enquiry.view", ObjectType: "enquiry", ObjectID: "FL-AAAA"},
		{Actor: "ben@drk.example", Society: &soc, Action: "card.publish", ObjectType: "card", ObjectID: "7"},
		{Actor: "luc@croix-rouge.example", Action: "enquiry.view", ObjectType: "enquiry", ObjectID: "FL-BBBB"},
	} {
		if err := s.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	for _, sql := range []string{
		`UPDATE audit_log SET actor = 'someone@else.example'`,
		`UPDATE audit_log SET detail = '{"x":1}'`,
		`UPDATE audit_log SET at = now() - interval '3 years'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		if _, err := db.Exec(ctx, sql); err == nil {
			t.Errorf("%s: allowed", sql)
		}
	}
	if n, _ := s.AuditEntries(ctx, store.AuditFilter{}); len(n) != 3 {
		t.Fatalf("%d entries left, want 3", len(n))
	}
	// Forgetting an address is allowed; so is deleting an entry past a year.
	if _, err := db.Exec(ctx, `UPDATE audit_log SET ip = NULL`); err != nil {
		t.Errorf("forgetting addresses: %v", err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO audit_log (actor, action, at) VALUES ('old@drk.example', 'login', now() - interval '800 days')`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteOldAudit(ctx, 0); err != nil || n != 1 {
		t.Errorf("deleting entries past their keep: %d, %v (the keep is at least a year, so only the 800-day-old one goes)", n, err)
	}
	for _, tc := range []struct {
		f    store.AuditFilter
		want []string
	}{
		{store.AuditFilter{Society: "de"}, []string{"card.publish", "enquiry.view"}},
		{store.AuditFilter{Actor: "luc@croix-rouge.example"}, []string{"enquiry.view"}},
		{store.AuditFilter{Action: "card."}, []string{"card.publish"}},
		{store.AuditFilter{ObjectID: "FL-AAAA"}, []string{"enquiry.view"}},
		{store.AuditFilter{From: time.Now().Add(time.Hour)}, nil},
		{store.AuditFilter{Limit: 1}, []string{"enquiry.view"}},
	} {
		got, err := s.AuditEntries(ctx, tc.f)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range got {
			actions = append(actions, e.Action)
		}
		if !slices.Equal(actions, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, actions, tc.want)
		}
	}
	// Pages: the next one starts below the last entry shown.
	first, _ := s.AuditEntries(ctx, store.AuditFilter{Limit: 2})
	rest, _ := s.AuditEntries(ctx, store.AuditFilter{Limit: 2, BeforeID: first[len(first)-1].ID})
	if len(first) != 2 || len(rest) != 1 || rest[0].Actor != "ana@drk.example" {
		t.Errorf("pages: %d then %d", len(first), len(rest))
	}
}
