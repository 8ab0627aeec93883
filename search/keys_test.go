package search

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// TestSearchKeyCannotWrite: the key the site searches with can search the
// faces index, and cannot add documents, change settings, delete the index
// or make keys. Every replica gets the same key.
func TestSearchKeyCannotWrite(t *testing.T) {
	c := newFacesClient(t)
	key, err := c.EnsureSearchKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.EnsureSearchKey(t.Context())
	if err != nil || again != key {
		t.Fatalf("a second replica got %q (%v), the first %q", again, err, key)
	}
	if _, err := c.SearchFaces(t.Context(), FaceQuery{}); err != nil {
		t.Fatalf("searching with the search key: %v", err)
	}
	cfg := testConfig(t)
	// A connection per request: in two full runs of make test a refused
	// write on a kept-alive connection was never answered, and the test
	// waited for the package's 10-minute limit.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	m := meilisearch.New(cfg.URL, meilisearch.WithAPIKey(key), meilisearch.WithCustomClient(hc))
	idx := m.Index(c.FacesIndex())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	if _, err := idx.SearchWithContext(ctx, "", &meilisearch.SearchRequest{}); err != nil {
		t.Errorf("search with the search key: %v", err)
	}
	cancel()
	pk := "ref"
	var ctx2 context.Context
	writes := map[string]func() error{
		"add a document": func() error {
			_, err := idx.AddDocumentsWithContext(ctx2, []map[string]any{{"ref": "TTF-AAAAA"}}, &meilisearch.DocumentOptions{PrimaryKey: &pk})
			return err
		},
		"change settings": func() error {
			_, err := idx.UpdateSettingsWithContext(ctx2, &meilisearch.Settings{SearchableAttributes: []string{"ref"}})
			return err
		},
		"delete the index": func() error { _, err := m.DeleteIndexWithContext(ctx2, c.FacesIndex()); return err },
		"make a key": func() error {
			_, err := m.CreateKeyWithContext(ctx2, &meilisearch.Key{Actions: []string{"*"}, Indexes: []string{"*"}})
			return err
		},
		"search another index": func() error {
			_, err := m.Index("other").SearchWithContext(ctx2, "", &meilisearch.SearchRequest{})
			return err
		},
	}
	for what, f := range writes {
		// Each call has its own deadline; a timeout is not a refusal.
		var cancel context.CancelFunc
		ctx2, cancel = context.WithTimeout(t.Context(), 10*time.Second)
		err := f()
		cancel()
		switch code := apiErrorCode(err); {
		case err == nil:
			t.Errorf("the search key could %s", what)
		case code != "invalid_api_key":
			t.Errorf("%s with the search key: want Meilisearch's refusal (invalid_api_key), got %v", what, err)
		}
	}
}
