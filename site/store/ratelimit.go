package store

import (
	"context"
	"fmt"
	"time"
)

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
		RETURNING count, window_start`, key, window.Seconds()).Scan(&n, &start)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("store: rate limit: %w", err)
	}
	return n, start.Add(window), nil
}

// Hits returns the count under key in its current window, without counting.
func (s *Store) Hits(ctx context.Context, key string, window time.Duration) (int, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var n int
	err := s.pool.QueryRow(ctx, `
		SELECT coalesce((SELECT count FROM rate_limits WHERE key = $1 AND window_start + make_interval(secs => $2) > now()), 0)`,
		key, window.Seconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: rate limit: %w", err)
	}
	return n, nil
}

// ResetHits forgets the count under key.
func (s *Store) ResetHits(ctx context.Context, key string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE key = $1`, key); err != nil {
		return fmt.Errorf("store: rate limit: %w", err)
	}
	return nil
}

// DeleteStaleHits removes counters whose window ended more than maxWindow ago.
func (s *Store) DeleteStaleHits(ctx context.Context, maxWindow time.Duration) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM rate_limits WHERE window_start + make_interval(secs => $1) < now()`, maxWindow.Seconds()); err != nil {
		return fmt.Errorf("store: rate limit: %w", err)
	}
	return nil
}
