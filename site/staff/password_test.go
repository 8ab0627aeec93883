package staff

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPasswordChecksBounded: however many sign-ins arrive at once, at most
// MaxHashes argon2id computations run (each holds 19 MiB), and a check
// that cannot start within HashWait is refused with ErrBusy, not queued
// without end.
func TestPasswordChecksBounded(t *testing.T) {
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	// Hold every slot: the next check must give up after HashWait.
	for range MaxHashes {
		hashSlots <- struct{}{}
	}
	start := time.Now()
	_, err = VerifyPassword(hash, "correct horse battery")
	waited := time.Since(start)
	for range MaxHashes {
		<-hashSlots
	}
	if !errors.Is(err, ErrBusy) || waited < HashWait {
		t.Fatalf("with every slot taken: %v after %v, want ErrBusy after %v", err, waited, HashWait)
	}

	// Many at once: the number running never passes MaxHashes, and each
	// either succeeds or is told to come back.
	var peak atomic.Int32
	var wg sync.WaitGroup
	var ok, busy atomic.Int32
	for range 4 * MaxHashes {
		wg.Go(func() {
			good, err := VerifyPassword(hash, "correct horse battery")
			switch {
			case errors.Is(err, ErrBusy):
				busy.Add(1)
			case err == nil && good:
				ok.Add(1)
			default:
				t.Errorf("verify: %v %v", good, err)
			}
		})
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if n := int32(len(hashSlots)); n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	wg.Wait()
	close(done)
	if peak.Load() > MaxHashes || peak.Load() == 0 {
		t.Errorf("peak of %d checks at once, want 1..%d", peak.Load(), MaxHashes)
	}
	if ok.Load()+busy.Load() != 4*MaxHashes || ok.Load() == 0 {
		t.Errorf("%d verified, %d busy", ok.Load(), busy.Load())
	}
}

// TestHashWithHugeParameters: a stored hash cannot make a check allocate
// more than the site's own parameters.
func TestHashWithHugeParameters(t *testing.T) {
	huge := "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2rV5l9x8m3yqVdV5n1y8r9QkX1wq0pZ0m1Jt3QyVf5c"
	if ok, err := VerifyPassword(huge, "anything at all"); ok || err == nil {
		t.Fatalf("a 4 GiB argon2 hash was verified: %v %v", ok, err)
	}
}
