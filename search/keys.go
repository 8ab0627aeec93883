package search

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"

	"github.com/meilisearch/meilisearch-go"
)

// ErrNoSearchKey is returned by searches while the client has no
// search-only key yet: the gallery then answers from PostgreSQL.
var ErrNoSearchKey = errors.New("search: no search-only key yet")

// SearchKeyUID is the uid of the search-only key EnsureSearchKey makes for
// this client's indexes: a UUID derived from the index prefix, so that
// every replica, and every restart, asks for the same key.
func (c *Client) SearchKeyUID() string {
	h := sha256.Sum256([]byte("familylinks search key:" + c.prefix))
	h[6] = h[6]&0x0f | 0x40 // version 4 layout, as Meilisearch expects a UUID v4
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// EnsureSearchKey makes (or finds) the key that can only search this
// client's faces indexes, with the client's own key (which must be allowed
// to manage keys: the master key), and from then on searches with it. The
// site never searches with the key that can write.
func (c *Client) EnsureSearchKey(ctx context.Context) (string, error) {
	ctx, cancel := c.call(ctx)
	defer cancel()
	uid := c.SearchKeyUID()
	k, err := c.ms.GetKeyWithContext(ctx, uid)
	if err != nil {
		var me *meilisearch.Error
		if !errors.As(err, &me) || me.StatusCode != http.StatusNotFound {
			return "", fmt.Errorf("search: finding the search key: %w", err)
		}
		k, err = c.ms.CreateKeyWithContext(ctx, &meilisearch.Key{UID: uid, Name: "familylinks search " + c.prefix,
			Description: "Searches the Trace the Face index; cannot write.", Actions: []string{"search"},
			Indexes: []string{c.prefix + "faces*"}})
		if err != nil {
			return "", fmt.Errorf("search: making the search key: %w", err)
		}
	}
	c.useSearchKey(k.Key)
	return k.Key, nil
}
