package cards

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/store"
)

// TestDirectoryFallsBackToPeriodicReload: without any announcement the
// copy reloads once it is older than Refresh (a lost notification costs at
// most that long); a failed load keeps the cards already shown; OnChange
// runs only when a card changed.
func TestDirectoryFallsBackToPeriodicReload(t *testing.T) {
	now := time.Now()
	version := func(id int64) map[string]store.CardVersion {
		return map[string]store.CardVersion{"de": {ID: id, Society: "de", Status: "published", Card: []byte(`{"emails":["a@b.example"]}`), DecidedAt: &now}}
	}
	var current atomic.Int64
	current.Store(1)
	fail := atomic.Bool{}
	d := NewDirectory(func(context.Context) (map[string]store.CardVersion, error) {
		if fail.Load() {
			return nil, errors.New("database down")
		}
		return version(current.Load()), nil
	})
	d.Refresh = 100 * time.Millisecond
	var changes atomic.Int64
	d.OnChange = func() { changes.Add(1) }
	ctx := context.Background()
	if p, ok := d.Get(ctx, "de"); !ok || p.Version != 1 || p.Card.Emails[0] != "a@b.example" {
		t.Fatalf("first read: %+v %v", p, ok)
	}
	current.Store(2)
	seen := func(want int64) bool {
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if p, _ := d.Get(ctx, "de"); p.Version == want {
				return true
			}
		}
		return false
	}
	if !seen(2) {
		t.Fatal("the new version never appeared without an announcement")
	}
	if changes.Load() != 1 {
		t.Errorf("OnChange ran %d times, want 1", changes.Load())
	}
	fail.Store(true)
	time.Sleep(300 * time.Millisecond)
	if p, ok := d.Get(ctx, "de"); !ok || p.Version != 2 {
		t.Errorf("with the database down the card went away: %+v %v", p, ok)
	}
	if changes.Load() != 1 {
		t.Errorf("a failed load counted as a change")
	}
}

// TestStaleAfterAYear: a card confirmed a year and a day ago is stale, one
// confirmed yesterday is not, and the stamp of a page changes with it.
func TestStaleAfterAYear(t *testing.T) {
	now := time.Now()
	fresh := Public{Version: 3, Confirmed: now.Add(-24 * time.Hour)}
	old := Public{Version: 3, Confirmed: now.Add(-366 * 24 * time.Hour)}
	if fresh.Stale(now) || !old.Stale(now) {
		t.Errorf("stale: fresh %v, old %v", fresh.Stale(now), old.Stale(now))
	}
	if fresh.Stamp(now) == old.Stamp(now) {
		t.Error("a page keyed by the stamp would not change when the card goes stale")
	}
}
