package staff

import (
	"errors"
	"strings"
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

// TestHashCost: the site's binary hashes at OWASP's cost; only a test
// binary hashes cheaply, and a hash made at OWASP's cost (the kind every
// account has) still verifies in it.
func TestHashCost(t *testing.T) {
	if m, p := hashCost(false); m != 19*1024 || p != 2 {
		t.Errorf("the site's binary hashes with m=%d KiB, t=%d: want OWASP's 19 MiB and 2 passes", m, p)
	}
	h, err := HashPassword("correct horse battery staple")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("a test binary's hash: %q %v", h, err)
	}
	const owasp = "$argon2id$v=19$m=19456,t=2,p=1$ZmFtaWx5bGlua3Mtc2FsdA$YT4eIDiZEFp+vHE/gGPSvWDThdaWDDrJ6vXiY1TcILg"
	if ok, err := VerifyPassword(owasp, "correct horse battery staple"); !ok || err != nil {
		t.Errorf("an OWASP-cost hash of the right password: %v %v", ok, err)
	}
	if ok, _ := VerifyPassword(owasp, "correct horse battery stapler"); ok {
		t.Error("an OWASP-cost hash verified a wrong password")
	}
	if !strings.HasPrefix(dummyHash(), "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("the unknown address's hash %q is not at the cost of a new hash", dummyHash())
	}
}
