package search

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReindexWithoutDowntime rebuilds the index while searches run: every
// search during the rebuild answers, and afterwards the index holds exactly
// the new documents.
func TestReindexWithoutDowntime(t *testing.T) {
	c := newTestClient(t)
	ctx := context.Background()
	if err := c.EnsureFaces(ctx); err != nil {
		t.Fatal(err)
	}
	old := []Face{testFace("TTF-OLD01", "female", "30-44", "af", 1, "mother")}
	if err := c.UpsertFaces(ctx, old); err != nil {
		t.Fatal(err)
	}
	var fresh []Face
	for i := 0; i < 300; i++ {
		fresh = append(fresh, testFace(fmt.Sprintf("TTF-N%04d", i), "male", "18-29", "so", int64(i+10), "brother"))
	}
	stop := make(chan struct{})
	var failures, searches atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			res, err := c.SearchFaces(ctx, FaceQuery{})
			searches.Add(1)
			if err != nil || res.Total == 0 {
				failures.Add(1)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	err := c.Reindex(ctx, func(add func([]Face) error) error {
		for i := 0; i < len(fresh); i += 100 {
			if err := add(fresh[i : i+100]); err != nil {
				return err
			}
		}
		return nil
	})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if failures.Load() != 0 {
		t.Errorf("%d of %d searches during the rebuild failed or found nothing", failures.Load(), searches.Load())
	}
	refs, err := c.Refs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(refs)
	if len(refs) != len(fresh) || refs[0] != "TTF-N0000" {
		t.Fatalf("after reindex: %d refs, first %v", len(refs), refs[:min(3, len(refs))])
	}
	res, err := c.SearchFaces(ctx, FaceQuery{Origin: "so"})
	if err != nil || res.Total != int64(len(fresh)) {
		t.Fatalf("the new index must be searchable with its settings: %v %v", res, err)
	}
}
