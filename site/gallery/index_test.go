package gallery_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
)

func searchClient(t *testing.T) *search.Client { return sitetest.Search(t) }

func refs(t *testing.T, c *search.Client, text string) []string {
	t.Helper()
	res, err := c.SearchFaces(context.Background(), search.FaceQuery{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Ref)
	}
	return out
}

// TestIndexFollowsPostgres publishes and withdraws an entry through the
// outbox, then checks, damages and rebuilds the index.
func TestIndexFollowsPostgres(t *testing.T) {
	ctx := context.Background()
	st := storetest.New(t)
	sc := searchClient(t)
	cat, err := locales.Load(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	x := &gallery.Indexer{Store: st, Search: sc, Catalog: cat}
	w := &store.Worker{Store: st, Handlers: x.Handlers(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	a, _ := st.CreateStaff(ctx, "a@drk.example", "de", store.RoleCaseworker, "h", false)
	b, _ := st.CreateStaff(ctx, "b@drk.example", "de", store.RoleCaseworker, "h", false)
	e, err := st.CreateGalleryEntry(ctx, store.GalleryEntry{
		Ref: "TTF-7Q4K2", Society: "de", Gender: "female", AgeGroup: "30-44", Seeking: []string{"mother"},
		Origin: "af", Languages: []string{"prs"}, CaseKeyID: "k", CaseSealed: []byte("x"), ConsentDate: time.Now(),
		ConsentFormVersion: "v1", ConsentRecordedBy: "Ana", ReviewDate: time.Now().AddDate(1, 0, 0), CreatedBy: a.ID,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ApproveGalleryEntry(ctx, e.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"afganistan", "أفغانستان", "افغانستان", "TTF-7Q4K2", "mère", "hooyo"} {
		if got := refs(t, sc, q); len(got) != 1 || got[0] != "TTF-7Q4K2" {
			t.Errorf("search %q: %v", q, got)
		}
	}
	if d, err := x.Check(ctx); err != nil || d.Published != 1 || d.Indexed != 1 || len(d.Missing)+len(d.Extra) != 0 {
		t.Fatalf("check after publishing: %+v %v", d, err)
	}
	if err := st.WithdrawGalleryEntry(ctx, e.ID, store.WithdrawConsent); err != nil {
		t.Fatal(err)
	}
	// Before the worker runs the index still has it: check-index says so.
	if d, _ := x.Check(ctx); len(d.Extra) != 1 || d.Extra[0] != "TTF-7Q4K2" {
		t.Errorf("check while the index lags: %+v", d)
	}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := refs(t, sc, "afganistan"); len(got) != 0 {
		t.Errorf("a withdrawn entry is still found: %v", got)
	}
	// Damage the index, then rebuild it from PostgreSQL.
	stray := search.Face{Ref: "TTF-STRAY", Gender: "male", AgeGroup: "18-29", Seeking: []string{"father"}, Origin: "sy",
		OriginNames: []string{"Syria"}, SeekingWords: []string{"father"}, Languages: []string{}, PublishedAt: 1}
	if err := sc.UpsertFaces(ctx, []search.Face{stray}); err != nil {
		t.Fatal(err)
	}
	e2, err := st.CreateGalleryEntry(ctx, store.GalleryEntry{
		Ref: "TTF-2B8MX", Society: "de", Gender: "male", AgeGroup: "18-29", Seeking: []string{"sister"},
		Origin: "so", CaseKeyID: "k", CaseSealed: []byte("x"), ConsentDate: time.Now(), ConsentFormVersion: "v1",
		ConsentRecordedBy: "Ana", ReviewDate: time.Now().AddDate(1, 0, 0), CreatedBy: a.ID,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ApproveGalleryEntry(ctx, e2.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	d, _ := x.Check(ctx)
	if len(d.Extra) != 1 || d.Extra[0] != "TTF-STRAY" || len(d.Missing) != 1 || d.Missing[0] != "TTF-2B8MX" {
		t.Fatalf("check of a damaged index: %+v", d)
	}
	n, err := x.Reindex(ctx)
	if err != nil || n != 1 {
		t.Fatalf("reindex: %d %v", n, err)
	}
	if d, _ := x.Check(ctx); len(d.Missing)+len(d.Extra) != 0 || d.Indexed != 1 {
		t.Errorf("check after reindex: %+v", d)
	}
}
