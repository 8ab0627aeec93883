package gallery_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/familylinks/familylinks/search"
)

// TestGalleryHungSearch: a Meilisearch that takes connections and never
// answers (hung, or overloaded) holds a visitor no longer than the
// gallery's own SearchBudget; then the gallery answers from PostgreSQL, as
// when the engine is down. The search client is given an hour, so only the
// budget can end the wait: without it the test would hang until its
// deadline.
func TestGalleryHungSearch(t *testing.T) {
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-release }))
	t.Cleanup(func() { close(release); hung.Close() })
	sc, err := search.New(search.Config{URL: hung.URL, Timeout: time.Hour, SearchWithAPIKey: true})
	if err != nil {
		t.Fatal(err)
	}
	checkDegraded(t, sc)
}
