package gallery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// BenchmarkGalleryList is the filtered gallery page with counts, served by
// the whole site over the real engines, for profiling the site's own share
// (make bench-gallery compares it with Meilisearch at 100,000 entries).
func BenchmarkGalleryList(b *testing.B) {
	sc := sitetest.Search(b)
	e := sitetest.New(b, sc)
	e.Account(b, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(b, "b@drk.example", "de", store.RoleCaseworker)
	origins := []string{"af", "sy", "so", "er", "ua", "sd"}
	for i := range 60 {
		e.Publish(b, fmt.Sprintf("TTF-B%04d", i), []string{"female", "male"}[i%2], origins[i%len(origins)], "mother", "brother")
	}
	x := &gallery.Indexer{Store: e.Store, Search: sc, Catalog: e.Catalog}
	w := &store.Worker{Store: e.Store, Handlers: x.Handlers(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for {
		n, err := w.RunOnce(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := e.App.Test(httptest.NewRequest("GET", "/ar/trace-the-face?origin=af&seeking=mother", nil), -1)
		if err != nil || res.StatusCode != 200 {
			b.Fatal(err, res.StatusCode)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}
