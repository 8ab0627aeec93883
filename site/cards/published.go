package cards

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/familylinks/familylinks/site/store"
)

// StaleAfter is how long a published card is trusted without anyone
// confirming it: after that the page says when it was last confirmed and
// that details may have changed, and the Society's editors are reminded.
const StaleAfter = store.CardStaleAfter

// Public is a Society's published card as the public pages and the open
// directory show it. It holds nothing personal: who saved and published it
// stays in the back office.
type Public struct {
	Society string
	Card    Card
	// NotesHTML is each note rendered and sanitised when it was published.
	NotesHTML map[string]template.HTML
	Version   int64
	Published time.Time
	Confirmed time.Time
	// Zones are the time zones of Card.Places, loaded once (nil where a
	// zone cannot be loaded).
	Zones []*time.Location
	stamp string
}

// Stale reports whether nobody has confirmed the card for StaleAfter.
func (p Public) Stale(now time.Time) bool { return now.Sub(p.Confirmed) > StaleAfter }

// Stamp identifies what a page built from the card depends on: its
// version, its confirmation and whether it is stale now. A cached page
// keyed by it is never served after the card changed.
func (p Public) Stamp(now time.Time) string {
	s := p.stamp
	if s == "" {
		s = strconv.FormatInt(p.Version, 10) + "." + strconv.FormatInt(p.Confirmed.Unix(), 10)
	}
	if p.Stale(now) {
		s += ".stale"
	}
	return s
}

// FromVersion decodes a published version from the store.
func FromVersion(v store.CardVersion) (Public, error) {
	p := Public{Society: v.Society, Version: v.ID}
	if err := json.Unmarshal(v.Card, &p.Card); err != nil {
		return Public{}, fmt.Errorf("cards: version %d: %w", v.ID, err)
	}
	if len(v.NotesHTML) > 0 {
		p.NotesHTML = make(map[string]template.HTML, len(v.NotesHTML))
		for l, h := range v.NotesHTML {
			p.NotesHTML[l] = template.HTML(h) // #nosec: sanitised by RenderNote at publish time
		}
	}
	if v.DecidedAt != nil {
		p.Published = *v.DecidedAt
	}
	p.Confirmed = p.Published
	if v.ConfirmedAt != nil {
		p.Confirmed = *v.ConfirmedAt
	}
	for _, pl := range p.Card.Places {
		loc, err := time.LoadLocation(pl.TimeZone)
		if err != nil {
			loc = nil
		}
		p.Zones = append(p.Zones, loc)
	}
	p.stamp = strconv.FormatInt(p.Version, 10) + "." + strconv.FormatInt(p.Confirmed.Unix(), 10)
	return p, nil
}

// Directory holds every published card in memory, so that a country page
// needs no query per view. It reloads when told that a card changed
// (Changed: a LISTEN/NOTIFY from any replica, or this one's own publish)
// and, as a fallback for a lost notification, when its copy is older than
// Refresh at the next read. A failed load keeps the last copy.
type Directory struct {
	load func(context.Context) (map[string]store.CardVersion, error)
	// OnChange runs after a load that changed any card (the page cache
	// forgets the country pages).
	OnChange func()
	// Refresh is how old the copy may get before a read reloads it
	// (default DefaultRefresh): the fallback for a lost notification.
	Refresh time.Duration

	// snap is read by every country page without a lock.
	snap atomic.Pointer[snapshot]

	mu      sync.Mutex    // guards the loading state below
	loading bool          // a load runs
	again   bool          // a change was announced during the load
	loaded  chan struct{} // closed when the current load ends
}

// snapshot is the copy of the cards and when it was loaded.
type snapshot struct {
	cards map[string]Public
	at    time.Time
}

// DefaultRefresh is how old the in-memory copy may get before a read
// reloads it, when Directory.Refresh is zero.
const DefaultRefresh = 30 * time.Second

// loadTimeout bounds one load.
const loadTimeout = 3 * time.Second

// NewDirectory returns a Directory reading with load (store.PublishedCards
// in the site); with a nil load it holds no card.
func NewDirectory(load func(context.Context) (map[string]store.CardVersion, error)) *Directory {
	return &Directory{load: load}
}

// All returns every published card by Society code. The first read waits
// for the first load, briefly; later ones never wait, and take no lock
// while the copy is fresh.
func (d *Directory) All(ctx context.Context) map[string]Public {
	if d == nil || d.load == nil {
		return nil
	}
	every := d.Refresh
	if every <= 0 {
		every = DefaultRefresh
	}
	s := d.snap.Load()
	if s != nil && time.Since(s.at) <= every {
		return s.cards
	}
	d.mu.Lock()
	wait := d.startLocked(ctx)
	d.mu.Unlock()
	if s != nil {
		return s.cards // the reload runs in the background
	}
	select {
	case <-wait:
	case <-ctx.Done():
	}
	if s = d.snap.Load(); s != nil {
		return s.cards
	}
	return nil
}

// Get returns one Society's published card.
func (d *Directory) Get(ctx context.Context, society string) (Public, bool) {
	p, ok := d.All(ctx)[society]
	return p, ok
}

// Changed reloads now, in the background: a card was published or
// confirmed somewhere.
func (d *Directory) Changed() {
	if d == nil || d.load == nil {
		return
	}
	d.mu.Lock()
	d.startLocked(context.Background())
	d.mu.Unlock()
}

// startLocked begins a load, or asks the running one to load again;
// d.mu is held. It returns a channel closed when the loading ends.
func (d *Directory) startLocked(ctx context.Context) <-chan struct{} {
	if d.loading {
		d.again = true
		return d.loaded
	}
	d.loading = true
	d.loaded = make(chan struct{})
	go d.run(context.WithoutCancel(ctx))
	return d.loaded
}

func (d *Directory) run(ctx context.Context) {
	for {
		if d.once(ctx) && d.OnChange != nil {
			d.OnChange()
		}
		d.mu.Lock()
		if d.again {
			// A change was announced during the load: load once more.
			d.again = false
			d.mu.Unlock()
			continue
		}
		d.loading = false
		close(d.loaded)
		d.mu.Unlock()
		return
	}
}

// once loads the cards and reports whether any changed.
func (d *Directory) once(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	versions, err := d.load(ctx)
	old := d.snap.Load()
	if err != nil {
		if old != nil {
			// Keep the last copy; try again after Refresh.
			d.snap.Store(&snapshot{cards: old.cards, at: time.Now()})
		}
		return false
	}
	next := make(map[string]Public, len(versions))
	for _, v := range versions {
		p, err := FromVersion(v)
		if err != nil {
			continue // a card that cannot be read is not shown
		}
		next[p.Society] = p
	}
	d.snap.Store(&snapshot{cards: next, at: time.Now()})
	return old != nil && !maps.EqualFunc(old.cards, next, func(a, b Public) bool {
		return a.Version == b.Version && a.Confirmed.Equal(b.Confirmed)
	})
}
