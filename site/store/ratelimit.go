package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"time"
)

// Rate-limit counters are keyed by what is being limited: a client's
// address (web.ClientKey), an e-mail address typed into the login form.
// Neither is stored: the row's key is an HMAC-SHA256 of it under a key of
// the day, derived from the configured secret (SetHitSecret). Somebody who
// reads the table, or a backup, cannot tell whose counters they are without
// the secret (the IPv4 space is small enough to hash in full, which is why a
// plain hash would not do), and the same address gives unrelated keys on
// different days. Counters start afresh at 00:00 UTC, a small price: the
// longest window is 15 minutes. Rows expire with DeleteStaleHits.

// hitKeys holds the secret behind rate-limit keys and caches the day's key.
type hitKeys struct {
	mu     sync.Mutex
	secret []byte
	day    string
	key    []byte
}

// SetHitSecret sets the secret that rate-limit keys are derived from. Every
// replica must have the same one, or each counts on its own. Without it a
// store makes a random secret of its own: still no address is kept, but
// replicas then do not share counters.
func (s *Store) SetHitSecret(secret []byte) {
	s.hits.mu.Lock()
	defer s.hits.mu.Unlock()
	s.hits.secret = append([]byte(nil), secret...)
	s.hits.day, s.hits.key = "", nil
}

// hitKey is the stored form of key at now: 128 bits of HMAC-SHA256, hex.
func (s *Store) hitKey(key string, now time.Time) string {
	h := &s.hits
	h.mu.Lock()
	if h.secret == nil {
		h.secret = make([]byte, 32)
		_, _ = rand.Read(h.secret)
	}
	day := now.UTC().Format(time.DateOnly)
	if day != h.day {
		m := hmac.New(sha256.New, h.secret)
		m.Write([]byte("familylinks rate-limit key of " + day))
		h.day, h.key = day, m.Sum(nil)
	}
	m := hmac.New(sha256.New, h.key)
	h.mu.Unlock()
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Hit counts one event under key in a fixed window and returns the count in
// the current window and when that window ends. The counters live in
// PostgreSQL so that every replica sees the same numbers.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration) (int, time.Time, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var n int
	var start time.Time
	err := s.pool.QueryRow(ctx, `
		INSERT INTO rate_limits AS r (key, window_start, count) VALUES ($1, now(), 1)
		ON CONFLICT (key) DO UPDATE SET
			count        = CASE WHEN r.window_start + make_interval(secs => $2) <= now() THEN 1 ELSE r.count + 1 END,
			window_start = CASE WHEN r.window_start + make_interval(secs => $2) <= now() THEN now() ELSE r.window_start END
		RETURNING count, window_start`, s.hitKey(key, time.Now()), window.Seconds()).Scan(&n, &start)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: rate limit: %w", err)
	}
	return n, start.Add(window), nil
}

// Unhit takes back one event counted under key, for example a sign-in that
// was counted before its password was checked and turned out right.
func (s *Store) Unhit(ctx context.Context, key string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `UPDATE rate_limits SET count = greatest(count - 1, 0) WHERE key = $1`, s.hitKey(key, time.Now())); err != nil {
		return fmt.Errorf("store: rate limit: %w", err)
	}
	return nil
}

// Hits returns the count under key in its current window, without counting.
func (s *Store) Hits(ctx context.Context, key string, window time.Duration) (int, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT coalesce((SELECT count FROM rate_limits WHERE key = $1 AND window_start + make_interval(secs => $2) > now()), 0)`,
		s.hitKey(key, time.Now()), window.Seconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: rate limit: %w", err)
	}
	return n, nil
}

// ResetHits forgets the count under key.
func (s *Store) ResetHits(ctx context.Context, key string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE key = $1`, s.hitKey(key, time.Now())); err != nil {
		return fmt.Errorf("store: rate limit: %w", err)
	}
	return nil
}

// DeleteStaleHits removes counters whose window started more than maxWindow
// ago (give the longest window in use), a batch at a time, and returns how
// many it removed.
func (s *Store) DeleteStaleHits(ctx context.Context, maxWindow time.Duration) (int64, error) {
	return s.deleteBatches(ctx, "rate limit cleanup", `
		DELETE FROM rate_limits WHERE key IN (
			SELECT key FROM rate_limits WHERE window_start + make_interval(secs => $2) < now()
			LIMIT $1 FOR UPDATE SKIP LOCKED)`, maxWindow.Seconds())
}

// CountHits returns how many rate-limit rows exist, for tests and tools.
func (s *Store) CountHits(ctx context.Context) (int64, error) {
	return s.count(ctx, "count rate limits", `SELECT count(*) FROM rate_limits`)
}
