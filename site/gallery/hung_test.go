package gallery_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// TestGalleryHungSearch: a Meilisearch that takes connections and never
// answers (hung, or overloaded) costs a visitor at most SearchBudget; then
// the gallery answers from PostgreSQL, as when the engine is down.
func TestGalleryHungSearch(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(func() { close(release); hung.Close() })
	sc, err := search.New(search.Config{URL: hung.URL})
	if err != nil {
		t.Fatal(err)
	}
	e := sitetest.New(t, sc)
	e.Account(t, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "b@drk.example", "de", store.RoleCaseworker)
	publish(t, e, "TTF-7Q4K2", "female", "af", "mother")
	publish(t, e, "TTF-9PL3D", "female", "so", "mother")
	b := e.Browser(t)
	start := time.Now()
	r := b.Get("/en/trace-the-face?origin=so")
	took := time.Since(start)
	if r.Status != 200 || strings.Join(cards(r), ",") != "TTF-9PL3D" || !strings.Contains(r.Body, e.Catalog.Translator("en").T("GalleryDegraded")) {
		t.Fatalf("hung search: %d %v", r.Status, cards(r))
	}
	if took > gallery.SearchBudget+time.Second {
		t.Errorf("the gallery took %s with a hung search engine, want about %s", took.Round(time.Millisecond), gallery.SearchBudget)
	}
}
