package search

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meilisearch/meilisearch-go"
)

// Environment read by the tests. The key is the master key of a throw-away
// server started by the test harness.
const (
	envMeiliURL = "FAMILYLINKS_TEST_MEILI_URL"
	envMeiliKey = "FAMILYLINKS_TEST_MEILI_KEY"
)

// testConfig returns the Config of the test Meilisearch, with a prefix no
// other test uses. Without a server the test is skipped, except in CI, where
// a missing service is a failure.
func testConfig(t *testing.T) Config {
	t.Helper()
	url := os.Getenv(envMeiliURL)
	if url == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must start Meilisearch for the search tests", envMeiliURL)
		}
		t.Skipf("%s is not set: skipping tests that need Meilisearch", envMeiliURL)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return Config{
		URL:     url,
		APIKey:  os.Getenv(envMeiliKey),
		Timeout: 10 * time.Second,
		Prefix:  "t" + hex.EncodeToString(b) + "_",
	}
}

// newTestClient returns a Client on the test server whose indexes are all
// deleted when the test ends.
func newTestClient(t *testing.T) *Client {
	t.Helper()
	cfg := testConfig(t)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dropIndexes(t, c, cfg.Prefix) })
	if _, err := c.EnsureSearchKey(t.Context()); err != nil {
		t.Fatalf("EnsureSearchKey: %v", err)
	}
	return c
}

// newFacesClient returns a test Client whose faces index exists with its
// settings applied.
func newFacesClient(t *testing.T) *Client {
	t.Helper()
	c := newTestClient(t)
	if err := c.EnsureFaces(t.Context()); err != nil {
		t.Fatalf("EnsureFaces: %v", err)
	}
	return c
}

// dropIndexes deletes every index whose name starts with prefix.
func dropIndexes(t *testing.T, c *Client, prefix string) {
	t.Helper()
	if !strings.HasPrefix(prefix, "t") || !strings.HasSuffix(prefix, "_") {
		t.Fatalf("refusing to drop indexes with prefix %q", prefix)
	}
	// t.Context is already cancelled when cleanups run.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := c.ms.ListIndexesWithContext(ctx, &meilisearch.IndexesQuery{Limit: 1000})
	if err != nil {
		t.Errorf("list indexes: %v", err)
		return
	}
	for _, idx := range res.Results {
		if !strings.HasPrefix(idx.UID, prefix) {
			continue
		}
		info, err := c.ms.DeleteIndexWithContext(ctx, idx.UID)
		if err != nil {
			t.Errorf("delete index %s: %v", idx.UID, err)
			continue
		}
		if err := c.Wait(ctx, info.TaskUID); err != nil {
			t.Errorf("delete index %s: %v", idx.UID, err)
		}
	}
}
