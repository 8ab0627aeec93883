package countries

import (
	"context"
	"sync"
	"time"
)

// activeInboxes keeps the set of inboxes that receive requests, read from
// the database at most every refresh, so that a country page can say who
// will receive a request without a query per view. A failed read keeps
// the last set; with none, the page names no recipient.
type activeInboxes struct {
	load func(context.Context) (map[string]bool, error)

	mu      sync.Mutex
	set     map[string]bool
	at      time.Time
	loading bool
}

const (
	activeRefresh = 30 * time.Second
	activeTimeout = 2 * time.Second
)

func (a *activeInboxes) get(ctx context.Context) (map[string]bool, bool) {
	if a.load == nil {
		return nil, false
	}
	a.mu.Lock()
	set, at, loading := a.set, a.at, a.loading
	stale := time.Since(at) > activeRefresh
	if stale && !loading {
		a.loading = true
	}
	a.mu.Unlock()
	switch {
	case set == nil && !loading:
		// The first view waits for the first read, briefly.
		a.refresh(ctx)
		a.mu.Lock()
		set = a.set
		a.mu.Unlock()
	case stale && !loading:
		go a.refresh(context.WithoutCancel(ctx))
	}
	return set, set != nil
}

func (a *activeInboxes) refresh(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, activeTimeout)
	defer cancel()
	set, err := a.load(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.loading = false
	if err != nil {
		if a.set != nil {
			a.at = time.Now() // keep the last set; retry after the next period
		}
		return
	}
	a.set, a.at = set, time.Now()
}
