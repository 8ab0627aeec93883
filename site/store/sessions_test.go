package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
)

// backdate moves a session's creation and expiry into the past, as if it
// had been made ago and last used then.
func backdate(t *testing.T, s *store.Store, ago time.Duration, idle time.Duration) {
	t.Helper()
	_, err := s.Pool().Exec(context.Background(), `
		UPDATE sessions SET created_at = now() - make_interval(secs => $1),
			expires_at = now() - make_interval(secs => $1) + make_interval(secs => $2)`, ago.Seconds(), idle.Seconds())
	if err != nil {
		t.Fatal(err)
	}
}

func TestSessionRotation(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	st, _ := s.CreateStaff(ctx, "c@x.example", "de", store.RoleCaseworker, "h", false)
	if err := s.StartSession(ctx, "", "first", st, "c1", lim); err != nil {
		t.Fatal(err)
	}
	sess, err := s.SessionByToken(ctx, "first", lim)
	if err != nil || sess.StaffID != st.ID || sess.CSRFToken != "c1" {
		t.Fatalf("session: %+v %v", sess, err)
	}
	if err := s.StartSession(ctx, "first", "second", st, "c2", lim); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByToken(ctx, "first", lim); !errors.Is(err, store.ErrNotFound) {
		t.Error("the old session id must stop working when a new one starts")
	}
	if _, err := s.SessionByToken(ctx, "second", lim); err != nil {
		t.Fatal(err)
	}
}

// TestPasswordChangeEndsEverySession: sessions in three browsers, then a
// password change: none survives, and a sign-in that read the account
// before the change cannot start one afterwards.
func TestPasswordChangeEndsEverySession(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	st, _ := s.CreateStaff(ctx, "c@x.example", "de", store.RoleCaseworker, "h", false)
	other, _ := s.CreateStaff(ctx, "o@x.example", "de", store.RoleCaseworker, "h", false)
	for _, tok := range []string{"laptop", "phone", "stolen"} {
		if err := s.StartSession(ctx, "", tok, st, "c", lim); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.StartSession(ctx, "", "colleague", other, "c", lim); err != nil {
		t.Fatal(err)
	}
	now, err := s.SetPassword(ctx, st.ID, "h2", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"laptop", "phone", "stolen"} {
		if _, err := s.SessionByToken(ctx, tok, lim); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session %q survived the password change: %v", tok, err)
		}
	}
	if n, _ := s.CountSessions(ctx, st.ID); n != 0 {
		t.Errorf("%d session rows left", n)
	}
	if _, err := s.SessionByToken(ctx, "colleague", lim); err != nil {
		t.Errorf("another account's session ended too: %v", err)
	}
	// A sign-in that checked the old password just before the change.
	if err := s.StartSession(ctx, "", "racing", st, "c", lim); !errors.Is(err, store.ErrStaleCredentials) {
		t.Errorf("a sign-in with the old credentials started a session: %v", err)
	}
	if err := s.StartSession(ctx, "", "new", now, "c", lim); err != nil {
		t.Errorf("a sign-in with the new password: %v", err)
	}
}

func TestOneTimePasswordExpires(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	st, err := s.CreateStaff(ctx, "c@x.example", "de", store.RoleCaseworker, "h", true)
	if err != nil {
		t.Fatal(err)
	}
	if st.PasswordExpiresAt == nil || time.Until(*st.PasswordExpiresAt) < store.OneTimePasswordTTL-time.Minute || time.Until(*st.PasswordExpiresAt) > store.OneTimePasswordTTL+time.Minute {
		t.Fatalf("one-time password expires at %v, want in %v", st.PasswordExpiresAt, store.OneTimePasswordTTL)
	}
	if st.OneTimeExpired(time.Now()) || !st.OneTimeExpired(time.Now().Add(store.OneTimePasswordTTL+time.Second)) {
		t.Error("OneTimeExpired")
	}
	chosen, err := s.SetPassword(ctx, st.ID, "h2", false)
	if err != nil || chosen.PasswordExpiresAt != nil || chosen.OneTimeExpired(time.Now().Add(1000*time.Hour)) {
		t.Errorf("a chosen password must not expire: %+v %v", chosen, err)
	}
	perm, _ := s.CreateStaff(ctx, "p@x.example", "de", store.RoleCaseworker, "h", false)
	if perm.PasswordExpiresAt != nil {
		t.Error("a permanent password got an expiry")
	}
}

func TestSessionLifetimes(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	st, _ := s.CreateStaff(ctx, "c@x.example", "de", store.RoleCaseworker, "h", false)
	if err := s.StartSession(ctx, "", "busy", st, "c", lim); err != nil {
		t.Fatal(err)
	}
	// Used a minute ago, made just under the absolute lifetime ago: alive,
	// and extended only up to the absolute end.
	backdate(t, s, lim.Absolute-2*time.Minute, lim.Absolute-time.Minute)
	sess, err := s.SessionByToken(ctx, "busy", lim)
	if err != nil {
		t.Fatal(err)
	}
	if end := sess.CreatedAt.Add(lim.Absolute); sess.ExpiresAt.After(end.Add(time.Second)) {
		t.Errorf("a busy session was extended past its absolute end: expires %v, absolute end %v", sess.ExpiresAt, end)
	}
	// Busy all along, but made more than the absolute lifetime ago: over.
	backdate(t, s, lim.Absolute+time.Minute, lim.Absolute+2*time.Minute)
	if _, err := s.SessionByToken(ctx, "busy", lim); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session older than %v still works: %v", lim.Absolute, err)
	}
	// Idle for longer than the idle timeout: over.
	if err := s.StartSession(ctx, "", "idle", st, "c", lim); err != nil {
		t.Fatal(err)
	}
	backdate(t, s, lim.Idle+time.Minute, lim.Idle)
	if _, err := s.SessionByToken(ctx, "idle", lim); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session idle for more than %v still works: %v", lim.Idle, err)
	}
	if n, _ := s.DeleteExpiredSessions(ctx); n != 2 {
		t.Errorf("expired sessions deleted: %d, want 2", n)
	}
	if n, _ := s.CountSessions(ctx, st.ID); n != 0 {
		t.Errorf("%d sessions left", n)
	}
}

// TestRateLimitKeysAreHashed: the key a caller counts under never reaches
// the table; replicas with the same secret share counters, another secret
// does not.
func TestRateLimitKeysAreHashed(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.DSN(t)
	open := func(secret string) *store.Store {
		s, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		s.SetHitSecret([]byte(secret))
		return s
	}
	a, b, c := open("shared"), open("shared"), open("other")
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const key = "contact:ip:198.51.100.23"
	if n, _, _ := a.Hit(ctx, key, time.Minute); n != 1 {
		t.Fatal(n)
	}
	if n, _, _ := b.Hit(ctx, key, time.Minute); n != 2 {
		t.Errorf("a replica with the same secret counts apart: %d", n)
	}
	if n, _, _ := c.Hit(ctx, key, time.Minute); n != 1 {
		t.Errorf("another secret shares the counter: %d", n)
	}
	var raw int
	if err := a.Pool().QueryRow(ctx, `SELECT count(*) FROM rate_limits WHERE key LIKE '%198.51.100%' OR key LIKE '%contact%'`).Scan(&raw); err != nil || raw != 0 {
		t.Errorf("%d rate-limit keys hold the key in clear (%v)", raw, err)
	}
	if err := a.Unhit(ctx, key); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.Hits(ctx, key, time.Minute); n != 1 {
		t.Errorf("after Unhit: %d", n)
	}
}

// TestCleanup: one round removes stale counters, expired sessions, old
// handled outbox messages and old audit addresses, and keeps the rest.
// Two rounds at once (two replicas) remove each row once.
func TestCleanup(t *testing.T) {
	ctx := context.Background()
	s := storetest.New(t)
	db := s.Pool()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := s.CreateStaff(ctx, "c@x.example", "de", store.RoleCaseworker, "h", false)
	for i := range 12 {
		if _, _, err := s.Hit(ctx, "k"+string(rune('a'+i)), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE rate_limits SET window_start = now() - interval '2 hours' WHERE key IN (SELECT key FROM rate_limits LIMIT 10)`)
	for _, tok := range []string{"live", "old"} {
		if err := s.StartSession(ctx, "", tok, st, "c", lim); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE id_hash = (SELECT id_hash FROM sessions ORDER BY created_at DESC, id_hash LIMIT 1)`)
	exec(`INSERT INTO outbox (topic, payload, done_at) VALUES ('t', '{}', now() - interval '8 days'), ('t', '{}', now() - interval '1 day'), ('t', '{}', NULL)`)
	exec(`INSERT INTO outbox (topic, payload, created_at) VALUES ('t', '{}', now() - interval '30 days')`) // pending, however old: kept
	exec(`INSERT INTO audit_log (actor, action, ip, at) VALUES ('a', 'login', '192.0.2.1', now() - interval '91 days'), ('a', 'login', '192.0.2.2', now() - interval '89 days')`)

	var wg [2]store.CleanupResult
	errs := make(chan error, 2)
	done := make(chan struct{}, 2)
	for i := range wg {
		go func() {
			r, err := (&store.Cleanup{Store: s}).RunOnce(ctx)
			wg[i] = r
			errs <- err
			done <- struct{}{}
		}()
	}
	for range wg {
		<-done
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	sum := store.CleanupResult{
		Hits: wg[0].Hits + wg[1].Hits, Sessions: wg[0].Sessions + wg[1].Sessions,
		Outbox: wg[0].Outbox + wg[1].Outbox, AuditAddresses: wg[0].AuditAddresses + wg[1].AuditAddresses,
	}
	if want := (store.CleanupResult{Hits: 10, Sessions: 1, Outbox: 1, AuditAddresses: 1}); sum != want {
		t.Errorf("two cleanups removed %+v, want %+v in all", sum, want)
	}
	count := func(sql string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, sql).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM rate_limits`); n != 2 {
		t.Errorf("%d rate-limit rows left, want 2", n)
	}
	if n := count(`SELECT count(*) FROM sessions`); n != 1 {
		t.Errorf("%d sessions left, want 1", n)
	}
	if n := count(`SELECT count(*) FROM outbox`); n != 3 {
		t.Errorf("%d outbox rows left, want 3 (a recent handled one and two pending)", n)
	}
	if n := count(`SELECT count(*) FROM audit_log WHERE ip IS NOT NULL`); n != 1 {
		t.Errorf("%d audit addresses left, want 1", n)
	}
	if n := count(`SELECT count(*) FROM audit_log`); n != 2 {
		t.Errorf("audit rows: %d, want 2: only the address is erased", n)
	}
}
