package cards

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"strconv"
	"sync"
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
}

// Stale reports whether nobody has confirmed the card for StaleAfter.
func (p Public) Stale(now time.Time) bool { return now.Sub(p.Confirmed) > StaleAfter }

// Stamp identifies what a page built from the card depends on: its
// version, its confirmation and whether it is stale now. A cached page
// keyed by it is never served after the card changed.
func (p Public) Stamp(now time.Time) string {
	s := strconv.FormatInt(p.Version, 10) + "." + strconv.FormatInt(p.Confirmed.Unix(), 10)
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

	mu      sync.Mutex
	cards   map[string]Public
	at      time.Time
	loading bool
	again   bool          // a change was announced during the load
	loaded  chan struct{} // closed when the current load ends
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
// for the first load, briefly; later ones never wait.
func (d *Directory) All(ctx context.Context) map[string]Public {
	if d == nil || d.load == nil {
		return nil
	}
	d.mu.Lock()
	cards, first := d.cards, d.cards == nil
	wait := d.start(ctx)
	d.mu.Unlock()
	if first {
		select {
		case <-wait:
		case <-ctx.Done():
		}
		d.mu.Lock()
		cards = d.cards
		d.mu.Unlock()
	}
	return cards
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
	d.at = time.Time{}
	d.startLocked(context.Background(), true)
	d.mu.Unlock()
}

// Reload loads now and waits for it: for tests and the directory command.
func (d *Directory) Reload(ctx context.Context) {
	d.Changed()
	d.mu.Lock()
	wait := d.loaded
	d.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-ctx.Done():
		}
	}
}

// start begins a load when the copy is missing or old; d.mu is held.
func (d *Directory) start(ctx context.Context) <-chan struct{} {
	every := d.Refresh
	if every <= 0 {
		every = DefaultRefresh
	}
	return d.startLocked(ctx, d.cards == nil || time.Since(d.at) > every)
}

func (d *Directory) startLocked(ctx context.Context, need bool) <-chan struct{} {
	if d.loading {
		if need {
			d.again = true
		}
		return d.loaded
	}
	if !need {
		done := make(chan struct{})
		close(done)
		return done
	}
	d.loading = true
	d.loaded = make(chan struct{})
	go d.run(context.WithoutCancel(ctx))
	return d.loaded
}

func (d *Directory) run(ctx context.Context) {
	for {
		changed := d.once(ctx)
		if changed && d.OnChange != nil {
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
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if d.cards != nil {
			d.at = time.Now() // keep the last copy; retry after Refresh
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
	changed := d.cards != nil && !maps.EqualFunc(d.cards, next, func(a, b Public) bool {
		return a.Version == b.Version && a.Confirmed.Equal(b.Confirmed)
	})
	d.cards, d.at = next, time.Now()
	return changed
}
