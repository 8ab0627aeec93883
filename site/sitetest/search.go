package sitetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/familylinks/familylinks/search"
)

// Environment set by the test harness (`familylinks testenv`) for the
// throw-away Meilisearch.
const (
	EnvMeiliURL = "FAMILYLINKS_TEST_MEILI_URL"
	EnvMeiliKey = "FAMILYLINKS_TEST_MEILI_KEY"
)

// Search returns a client of the test Meilisearch with an index prefix of
// its own and the faces index set up; the index is dropped when the test
// ends. Without a server the test is skipped, except when CI=true, where a
// missing service fails it.
func Search(t testing.TB) *search.Client {
	t.Helper()
	u := os.Getenv(EnvMeiliURL)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(EnvMeiliURL + " is not set (CI=true forbids skipping Meilisearch)")
		}
		t.Skip(EnvMeiliURL + " is not set: run `make test`")
	}
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	c, err := search.New(search.Config{URL: u, APIKey: os.Getenv(EnvMeiliKey), Prefix: "s" + hex.EncodeToString(b) + "_"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// The index is dropped by reindexing nothing into it, then deleting.
		_ = c.Reindex(context.Background(), func(func([]search.Face) error) error { return nil })
	})
	if err := c.EnsureFaces(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The site searches with a key that can only search, as in production.
	if _, err := c.EnsureSearchKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}
