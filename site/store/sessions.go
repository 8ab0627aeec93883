package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is a server-side session. A session without StaffID belongs to
// someone who has not logged in yet: it carries the login form's CSRF token.
type Session struct {
	StaffID   *int64    `db:"staff_id"`
	CSRFToken string    `db:"csrf_token"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// CreateSession stores a session under the hash of token.
func (s *Store) CreateSession(ctx context.Context, token string, staffID *int64, csrf string, ttl time.Duration) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO sessions (id_hash, staff_id, csrf_token, expires_at)
		VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
		hashToken(token), staffID, csrf, ttl.Seconds())
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByToken returns a live session and, once logged in, extends it to
// ttl from now (sliding expiry). A pre-login session keeps its short life.
func (s *Store) SessionByToken(ctx context.Context, token string, ttl time.Duration) (Session, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `
		UPDATE sessions SET last_seen_at = now(),
			expires_at = CASE WHEN staff_id IS NULL THEN expires_at ELSE greatest(expires_at, now() + make_interval(secs => $2)) END
		WHERE id_hash = $1 AND expires_at > now()
		RETURNING staff_id, csrf_token, created_at, expires_at`,
		hashToken(token), ttl.Seconds())
	sess, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Session])
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: session: %w", err)
	}
	return sess, nil
}

// RotateSession replaces a session with a new one for staffID, in one
// transaction: the old token stops working the moment the new one exists.
func (s *Store) RotateSession(ctx context.Context, oldToken, newToken string, staffID int64, csrf string, ttl time.Duration) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if oldToken != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hashToken(oldToken)); err != nil {
				return fmt.Errorf("store: rotate session: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO sessions (id_hash, staff_id, csrf_token, expires_at)
			VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
			hashToken(newToken), staffID, csrf, ttl.Seconds())
		if err != nil {
			return fmt.Errorf("store: rotate session: %w", err)
		}
		return nil
	})
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hashToken(token)); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= now()`)
	if err != nil {
		return 0, fmt.Errorf("store: expire sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}
