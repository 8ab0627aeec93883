package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
)

func entry(ref string, by int64, review time.Time) store.GalleryEntry {
	return store.GalleryEntry{
		Ref: ref, Society: "de", Gender: "female", AgeGroup: "30-44", Seeking: []string{"mother", "brother"},
		Origin: "af", Languages: []string{"prs", "ps"}, CaseKeyID: "k1", CaseSealed: []byte("sealed case ref"),
		ConsentDate: time.Now().AddDate(0, -1, 0), ConsentFormVersion: "v3", ConsentRecordedBy: "Ana",
		ReviewDate: review, CreatedBy: by,
	}
}

func TestGalleryLifecycle(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	a, _ := s.CreateStaff(ctx, "a@drk.example", "de", store.RoleCaseworker, "h", false)
	b, _ := s.CreateStaff(ctx, "b@drk.example", "de", store.RoleCaseworker, "h", false)
	photos := []store.Photo{{Width: 320, Height: 400, JPEG: []byte("jpeg320"), ETag: `"e320"`}, {Width: 640, Height: 800, JPEG: []byte("jpeg640"), ETag: `"e640"`}}
	e, err := s.CreateGalleryEntry(ctx, entry("TTF-7Q4K2", a.ID, time.Now().AddDate(1, 0, 0)), photos)
	if err != nil {
		t.Fatal(err)
	}
	if e.Status != "pending" {
		t.Fatalf("a new entry is %s", e.Status)
	}
	if _, err := s.PublicEntryByRef(ctx, e.Ref); !errors.Is(err, store.ErrNotFound) {
		t.Error("a pending entry must not be public")
	}
	if _, err := s.GalleryPhoto(ctx, e.Ref, 320); !errors.Is(err, store.ErrNotFound) {
		t.Error("a pending entry's photo must not be served")
	}
	if err := s.ApproveGalleryEntry(ctx, e.ID, a.ID); !errors.Is(err, store.ErrSelfApproval) {
		t.Fatalf("self-approval: %v", err)
	}
	if err := s.ApproveGalleryEntry(ctx, e.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	pub, err := s.PublicEntryByRef(ctx, e.Ref)
	if err != nil || pub.Origin != "af" || len(pub.Seeking) != 2 || pub.PublishedAt.IsZero() {
		t.Fatalf("public entry %+v %v", pub, err)
	}
	if p, err := s.GalleryPhoto(ctx, e.Ref, 640); err != nil || string(p.JPEG) != "jpeg640" || p.Height != 800 {
		t.Fatalf("photo %v", err)
	}
	chk, err := s.CheckGallery(ctx, []string{e.Ref, "TTF-NOPE1"})
	if _, ok := chk.Live[e.Ref]; err != nil || !ok || len(chk.Live) != 1 || chk.Reunited != 0 {
		t.Errorf("check gallery %+v %v", chk, err)
	}
	var seen []string
	if err := s.EachPublished(ctx, func(p []store.PublicEntry) error {
		for _, x := range p {
			seen = append(seen, x.Ref)
		}
		return nil
	}); err != nil || len(seen) != 1 {
		t.Fatalf("each published: %v %v", seen, err)
	}
	if err := s.WithdrawGalleryEntry(ctx, e.ID, store.WithdrawFamilyFound); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PublicEntryByRef(ctx, e.Ref); !errors.Is(err, store.ErrWithdrawn) {
		t.Errorf("withdrawn entry: %v", err)
	}
	if _, err := s.GalleryPhoto(ctx, e.Ref, 320); !errors.Is(err, store.ErrNotFound) {
		t.Error("a withdrawn entry's photo must not be served")
	}
	chk, err = s.CheckGallery(ctx, []string{e.Ref})
	if err != nil || len(chk.Live) != 0 {
		t.Errorf("a withdrawn entry counts as published: %+v %v", chk, err)
	}
	if chk.Reunited != 1 {
		t.Errorf("families reunited %d, want 1", chk.Reunited)
	}
	if chk, err := s.CheckGallery(ctx, nil); err != nil || len(chk.Live) != 0 || chk.Reunited != 1 {
		t.Errorf("check with no refs: %+v %v", chk, err)
	}
	rows, _ := s.OutboxRows(ctx)
	if len(rows) != 2 || rows[0].Topic != store.TopicGalleryIndex || rows[1].Topic != store.TopicGalleryRemove {
		t.Errorf("outbox %+v", rows)
	}
}

func TestGalleryReviewExpiry(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	a, _ := s.CreateStaff(ctx, "a@drk.example", "de", store.RoleCaseworker, "h", false)
	b, _ := s.CreateStaff(ctx, "b@drk.example", "de", store.RoleCaseworker, "h", false)
	old, _ := s.CreateGalleryEntry(ctx, entry("TTF-OLD01", a.ID, time.Now().AddDate(0, 0, -1)), nil)
	renewed, _ := s.CreateGalleryEntry(ctx, entry("TTF-NEW01", a.ID, time.Now().AddDate(0, 0, -1)), nil)
	for _, e := range []store.GalleryEntry{old, renewed} {
		if err := s.ApproveGalleryEntry(ctx, e.ID, b.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RenewGalleryConsent(ctx, renewed.ID, time.Now().AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	n, err := s.ExpireGalleryReviews(ctx, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("expired %d %v", n, err)
	}
	if _, err := s.PublicEntryByRef(ctx, old.Ref); !errors.Is(err, store.ErrWithdrawn) {
		t.Error("an entry past its review date must be withdrawn")
	}
	if _, err := s.PublicEntryByRef(ctx, renewed.Ref); err != nil {
		t.Error("a renewed entry must stay published")
	}
	got, _ := s.GalleryEntryByRef(ctx, old.Ref)
	if got.WithdrawReason == nil || *got.WithdrawReason != store.WithdrawExpired {
		t.Errorf("reason %v", got.WithdrawReason)
	}
}
