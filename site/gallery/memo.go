package gallery

import (
	"strings"
	"sync"

	"github.com/familylinks/familylinks/site/store"
)

// Bounds of what the gallery keeps in memory: some 5 MB of cards (about 600
// bytes each), every card of the first pages of the common searches in all
// ten languages; 1 MB of searches' refs (300 bytes each); and some 10 MB of
// page contents (15 to 25 KB each).
const (
	maxCards    = 8192
	maxSearches = 4096
	maxPages    = 512
)

// bounded is a map that keeps at most max entries, forgetting one when it
// is full. It holds only values that are the same for every visitor and
// cheap to make again.
type bounded[K comparable, V any] struct {
	mu  sync.RWMutex
	m   map[K]V
	max int
}

func newBounded[K comparable, V any](max int) *bounded[K, V] {
	return &bounded[K, V]{m: make(map[K]V), max: max}
}

func (b *bounded[K, V]) get(k K) (V, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	v, ok := b.m[k]
	return v, ok
}

func (b *bounded[K, V]) put(k K, v V) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[k]; !ok && len(b.m) >= b.max {
		// Map order is unspecified, so this forgets a card close to at
		// random: no bookkeeping on the read path.
		for old := range b.m {
			delete(b.m, old)
			break
		}
	}
	b.m[k] = v
}

func (b *bounded[K, V]) len() int {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return len(b.m)
}

// cardKey is everything a grid card shows: its language and the entry's
// public fields that appear on it. Cards are kept because localizing and
// escaping 24 of them cost more than the rest of the gallery page
// (bench-gallery). Whether an entry is still published is checked in
// PostgreSQL before its card is looked up, so a kept card never outlives
// its entry on a page.
type cardKey struct {
	lang, ref, origin, seeking string
	demo                       bool
}

func keyOf(lang string, e store.PublicEntry) cardKey {
	return cardKey{lang: lang, ref: e.Ref, origin: e.Origin, seeking: strings.Join(e.Seeking, "\x00"), demo: e.Demo}
}
