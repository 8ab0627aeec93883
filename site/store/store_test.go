package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
	"github.com/jackc/pgx/v5"
)

func TestMigrateFromEmptyAndAgain(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(ctx); v != 0 {
		t.Fatalf("empty database at version %d", v)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate from empty: %v", err)
	}
	v1, err := s.SchemaVersion(ctx)
	if err != nil || v1 < 1 {
		t.Fatalf("version after migrate: %d %v", v1, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("re-applying migrations must be a no-op: %v", err)
	}
	if v2, _ := s.SchemaVersion(ctx); v2 != v1 {
		t.Fatalf("version moved from %d to %d on re-apply", v1, v2)
	}
	// Two replicas starting together: tern's advisory lock serialises them.
	s2, err := store.Open(ctx, storetest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s2.Migrate(ctx) }()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("concurrent migrate: %v", err)
		}
	}
}

var lim = store.SessionLimits{Idle: time.Hour, Absolute: 12 * time.Hour}

func TestStaffAccounts(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	cw, err := s.CreateStaff(ctx, "ana@drk.example", "de", store.RoleCaseworker, "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateStaff(ctx, "ana@drk.example", "fr", store.RoleCaseworker, "hash", false); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("duplicate e-mail: %v", err)
	}
	if _, err := s.CreateStaff(ctx, "bob@example", "", store.RoleCaseworker, "hash", false); err == nil {
		t.Error("a caseworker must belong to a Society")
	}
	if _, err := s.StaffByEmail(ctx, "nobody@example"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown e-mail: %v", err)
	}
	if !cw.CanSee("de") || cw.CanSee("fr") || cw.CanSee("") {
		t.Error("a caseworker sees only their own Society")
	}
	adm, err := s.CreateStaff(ctx, "root@icrc.example", "", store.RoleAdmin, "hash", false)
	if err != nil || !adm.CanSee("fr") {
		t.Fatalf("admin: %v", err)
	}
	if err := s.StartSession(ctx, "", "tok", cw, "csrf", lim); err != nil {
		t.Fatal(err)
	}
	if err := s.DisableStaff(ctx, cw.Email); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, "tok", lim); !errors.Is(err, store.ErrNotFound) {
		t.Error("disabling an account must end its sessions")
	}
	if got, _ := s.StaffByID(ctx, cw.ID); got.DisabledAt == nil {
		t.Error("account not disabled")
	}
}

func TestRateLimitShared(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	for i := 1; i <= 3; i++ {
		n, _, err := s.Hit(ctx, "k", time.Minute)
		if err != nil || n != i {
			t.Fatalf("hit %d: %d %v", i, n, err)
		}
	}
	if n, _ := s.Hits(ctx, "k", time.Minute); n != 3 {
		t.Errorf("hits: %d", n)
	}
	// A window that has ended starts again from one.
	if n, _, _ := s.Hit(ctx, "short", time.Millisecond); n != 1 {
		t.Fatal(n)
	}
	time.Sleep(20 * time.Millisecond)
	if n, _, _ := s.Hit(ctx, "short", time.Millisecond); n != 1 {
		t.Errorf("expired window continued at %d", n)
	}
	if err := s.ResetHits(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Hits(ctx, "k", time.Minute); n != 0 {
		t.Errorf("after reset: %d", n)
	}
}

func TestAudit(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	soc := "de"
	if err := s.Audit(ctx, store.AuditEntry{Actor: "a@x", Society: &soc, Action: "enquiry.view", ObjectType: "enquiry", ObjectID: "E1"}); err != nil {
		t.Fatal(err)
	}
	log, err := s.AuditLog(ctx, 10)
	if err != nil || len(log) != 1 || log[0].Action != "enquiry.view" || *log[0].Society != "de" {
		t.Fatalf("audit log: %+v %v", log, err)
	}
}

func enqueue(t *testing.T, s *store.Store, topic string, n int) {
	t.Helper()
	err := s.Tx(context.Background(), func(ctx context.Context, tx pgx.Tx) error {
		for i := 0; i < n; i++ {
			if err := store.Enqueue(ctx, tx, topic, map[string]int{"n": i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestOutboxEnqueueIsTransactional(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	_ = s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if err := store.Enqueue(ctx, tx, "t", 1); err != nil {
			t.Fatal(err)
		}
		return errors.New("roll back")
	})
	if rows, _ := s.OutboxRows(ctx); len(rows) != 0 {
		t.Fatalf("a rolled-back transaction left %d outbox rows", len(rows))
	}
}

func TestOutboxRetryWithBackoff(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	enqueue(t, s, "mail", 1)
	calls := 0
	var delays []int
	w := &store.Worker{
		Store: s,
		Handlers: map[string]store.OutboxHandler{"mail": func(ctx context.Context, m store.OutboxMessage) error {
			calls++
			if calls < 3 {
				return fmt.Errorf("smtp refused, try %d", calls)
			}
			return nil
		}},
		Backoff: func(n int) time.Duration { delays = append(delays, n); return 50 * time.Millisecond * time.Duration(n) },
	}
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("first run: %d %v", n, err)
	}
	rows, _ := s.OutboxRows(ctx)
	if rows[0].DoneAt != nil || rows[0].LastError == nil || *rows[0].LastError != "smtp refused, try 1" || rows[0].Attempts != 1 {
		t.Fatalf("after a failure: %+v", rows[0])
	}
	// Not due yet: the backoff holds it back.
	if n, _ := w.RunOnce(ctx); n != 0 {
		t.Fatalf("retried before its backoff: %d", n)
	}
	for calls < 3 {
		time.Sleep(60 * time.Millisecond)
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rows, _ = s.OutboxRows(ctx)
	if rows[0].DoneAt == nil || rows[0].LastError != nil || rows[0].Attempts != 3 {
		t.Fatalf("after success: %+v", rows[0])
	}
	if fmt.Sprint(delays) != "[1 2]" {
		t.Errorf("backoff asked for attempts %v, want [1 2]", delays)
	}
	if pending, _, _ := s.OutboxStats(ctx); pending != 0 {
		t.Errorf("pending after success: %d", pending)
	}
}

func TestOutboxUnknownTopicKeptWithError(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	enqueue(t, s, "nobody-handles-this", 1)
	w := &store.Worker{Store: s, Handlers: map[string]store.OutboxHandler{}}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.OutboxRows(ctx)
	if rows[0].DoneAt != nil || rows[0].LastError == nil {
		t.Fatalf("a message nobody handles must stay pending with its error: %+v", rows[0])
	}
	if pending, _, _ := s.OutboxStats(ctx); pending != 1 {
		t.Errorf("pending: %d", pending)
	}
}

// TestOutboxTwoWorkersNeverShare runs two workers, as two replicas would,
// over many messages: each is handled exactly once.
func TestOutboxTwoWorkersNeverShare(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	const n = 300
	enqueue(t, s, "job", n)
	var mu sync.Mutex
	seen := map[int64]int{}
	var total atomic.Int64
	handler := func(ctx context.Context, m store.OutboxMessage) error {
		mu.Lock()
		seen[m.ID]++
		mu.Unlock()
		total.Add(1)
		time.Sleep(time.Millisecond) // widen the window for overlap
		return nil
	}
	runCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		w := &store.Worker{Store: s, Handlers: map[string]store.OutboxHandler{"job": handler}, Batch: 7, Poll: 10 * time.Millisecond}
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.Run(runCtx) }()
	}
	deadline := time.Now().Add(30 * time.Second)
	for total.Load() < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("handled %d distinct messages, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("message %d handled %d times", id, c)
		}
	}
	if pending, _, _ := s.OutboxStats(ctx); pending != 0 {
		t.Errorf("pending: %d", pending)
	}
}

// TestOutboxOutcomeRecordedOnceDatabaseAnswers: when the outcome of a
// handled message cannot be written at first (here a lock holds the row
// past the store's 5 s timeout, as a PostgreSQL restart would fail the
// write), the worker writes it once it can, instead of leaving the message
// leased for minutes and handling it again afterwards.
func TestOutboxOutcomeRecordedOnceDatabaseAnswers(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	enqueue(t, s, "mail", 1)
	calls := 0
	w := &store.Worker{Store: s, Handlers: map[string]store.OutboxHandler{"mail": func(_ context.Context, m store.OutboxMessage) error {
		calls++
		tx, err := s.Pool().Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM outbox WHERE id = $1 FOR UPDATE`, m.ID); err != nil {
			return err
		}
		time.AfterFunc(store.DefaultTimeout+500*time.Millisecond, func() { _ = tx.Rollback(ctx) })
		return nil
	}}}
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce: %d %v", n, err)
	}
	rows, _ := s.OutboxRows(ctx)
	if rows[0].DoneAt == nil {
		t.Fatalf("the handled message was not marked done once the database answered: %+v", rows[0])
	}
	if n, _ := w.RunOnce(ctx); n != 0 || calls != 1 {
		t.Errorf("handled %d times, claimed again %d", calls, n)
	}
}

// TestTypedErrors: callers learn what a database error means from the
// store's own errors, never from its text. A reference drawn twice is
// ErrDuplicateReference (the caller draws another); text PostgreSQL cannot
// hold is ErrBadText (a 400); an unreachable database is ErrUnavailable (a
// 503).
func TestTypedErrors(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	e := store.Enquiry{Reference: "FL-TEST-DUPL-0001", Kind: "residence", Residence: "fr", Lang: "en", Inbox: "fr",
		RouteReason: "society", RouteNote: "test", KeyID: new(string), Sealed: []byte("x")}
	if _, err := s.CreateEnquiry(ctx, e); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateEnquiry(ctx, e); !errors.Is(err, store.ErrDuplicateReference) {
		t.Errorf("the same reference twice: %v, want ErrDuplicateReference", err)
	}
	_, err := s.EnquiryByRef(ctx, "FL-\x00")
	if err = store.Classify(err); !errors.Is(err, store.ErrBadText) {
		t.Errorf("a NUL byte: %v, want ErrBadText", err)
	}
	gone, err := store.Open(ctx, "postgres://nobody@127.0.0.1:1/none?connect_timeout=1")
	if err == nil {
		_, err = gone.EnquiryByRef(ctx, "FL-X")
	}
	if err = store.Classify(err); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("no database: %v, want ErrUnavailable", err)
	}
}
