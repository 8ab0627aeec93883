package countries

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/familylinks/familylinks/content"
)

// activeInboxes knows where a request from each country goes now, read
// from the database at most every activeRefresh, so that a country page
// can say who will receive it without a query or a routing decision per
// view. A failed read keeps the last answer; with none, the page names no
// recipient.
type activeInboxes struct {
	load func(context.Context) (map[string]bool, error)
	data *content.Data

	// routes maps a country to the inbox a request from there reaches;
	// read without a lock.
	routes atomic.Pointer[routeSnapshot]

	mu      sync.Mutex
	loading bool
}

type routeSnapshot struct {
	inbox map[string]string
	at    time.Time
}

const (
	activeRefresh = 30 * time.Second
	activeTimeout = 2 * time.Second
)

// inbox returns where a request from iso2 goes now, and whether that is
// known.
func (a *activeInboxes) inbox(ctx context.Context, iso2 string) (string, bool) {
	if a.load == nil {
		return "", false
	}
	s := a.routes.Load()
	if s != nil && time.Since(s.at) <= activeRefresh {
		return s.inbox[iso2], true
	}
	a.mu.Lock()
	start := !a.loading
	a.loading = true
	a.mu.Unlock()
	switch {
	case s == nil && start:
		// The first view waits for the first read, briefly.
		a.refresh(ctx)
		s = a.routes.Load()
	case start:
		go a.refresh(context.WithoutCancel(ctx))
	}
	if s == nil {
		return "", false
	}
	return s.inbox[iso2], true
}

func (a *activeInboxes) refresh(ctx context.Context) {
	defer func() {
		a.mu.Lock()
		a.loading = false
		a.mu.Unlock()
	}()
	ctx, cancel := context.WithTimeout(ctx, activeTimeout)
	defer cancel()
	set, err := a.load(ctx)
	if err != nil {
		if old := a.routes.Load(); old != nil {
			// Keep the last answer; try again after the next period.
			a.routes.Store(&routeSnapshot{inbox: old.inbox, at: time.Now()})
		}
		return
	}
	routes := make(map[string]string, len(a.data.Countries))
	for _, c := range a.data.Countries {
		if dst, err := a.data.Route(c.ISO2, func(code string) bool { return set[code] }); err == nil {
			routes[c.ISO2] = dst.Inbox
		}
	}
	a.routes.Store(&routeSnapshot{inbox: routes, at: time.Now()})
}
