package gallery

import (
	"strings"

	"github.com/familylinks/familylinks/site/store"
)

// Bounds of what the gallery keeps in memory (web.Memo). By estimate: some
// 5 MB of cards (about 600 bytes each), every card of the first pages of the
// common searches in all ten languages; 1 MB of searches' refs (300 bytes
// each); and some 10 MB of page contents (15 to 25 KB each).
const (
	maxCards    = 8192
	maxSearches = 4096
	maxPages    = 512
)

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
