package search

import (
	"testing"

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
	m := meilisearch.New(cfg.URL, meilisearch.WithAPIKey(key))
	idx := m.Index(c.FacesIndex())
	ctx := t.Context()
	if _, err := idx.SearchWithContext(ctx, "", &meilisearch.SearchRequest{}); err != nil {
		t.Errorf("search with the search key: %v", err)
	}
	pk := "ref"
	writes := map[string]func() error{
		"add a document": func() error {
			_, err := idx.AddDocumentsWithContext(ctx, []map[string]any{{"ref": "TTF-AAAAA"}}, &meilisearch.DocumentOptions{PrimaryKey: &pk})
			return err
		},
		"change settings": func() error {
			_, err := idx.UpdateSettingsWithContext(ctx, &meilisearch.Settings{SearchableAttributes: []string{"ref"}})
			return err
		},
		"delete the index": func() error { _, err := m.DeleteIndexWithContext(ctx, c.FacesIndex()); return err },
		"make a key": func() error {
			_, err := m.CreateKeyWithContext(ctx, &meilisearch.Key{Actions: []string{"*"}, Indexes: []string{"*"}})
			return err
		},
		"search another index": func() error {
			_, err := m.Index("other").SearchWithContext(ctx, "", &meilisearch.SearchRequest{})
			return err
		},
	}
	for what, f := range writes {
		if err := f(); err == nil {
			t.Errorf("the search key could %s", what)
		}
	}
}
