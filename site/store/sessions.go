package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session is a server-side session of a signed-in account. Only signed-in
// accounts have one: the login form's CSRF token is a signed cookie, so an
// anonymous visitor never causes a row.
type Session struct {
	StaffID   int64     `db:"staff_id"`
	CSRFToken string    `db:"csrf_token"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// SessionLimits are a session's two lifetimes: it ends after Idle without
// a request, and after Absolute whatever happens, so a stolen cookie that
// is kept busy still dies.
type SessionLimits struct {
	Idle     time.Duration
	Absolute time.Duration
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// ErrStaleCredentials is returned when a session is asked for an account
// whose password changed, or that was disabled, since it was read: the
// sign-in that read it must not produce a session.
var ErrStaleCredentials = errors.New("store: the account's credentials changed meanwhile")

// StartSession stores a new session under the hash of newToken for the
// account st as it was read when its password was checked, and ends the
// session of oldToken (if any) in the same transaction, so the old token
// stops working the moment the new one exists. It fails with
// ErrStaleCredentials when the account's session epoch has moved on (a
// password change, reset or disable in the meantime) or it is disabled.
func (s *Store) StartSession(ctx context.Context, oldToken, newToken string, st Staff, csrf string, lim SessionLimits) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if oldToken != "" {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hashToken(oldToken)); err != nil {
				return fmt.Errorf("store: start session: %w", err)
			}
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO sessions (id_hash, staff_id, csrf_token, epoch, expires_at)
			SELECT $1, id, $3, session_epoch, now() + make_interval(secs => least($5::float8, $6::float8))
			FROM staff WHERE id = $2 AND session_epoch = $4 AND disabled_at IS NULL`,
			hashToken(newToken), st.ID, csrf, st.SessionEpoch, lim.Idle.Seconds(), lim.Absolute.Seconds())
		if err != nil {
			return fmt.Errorf("store: start session: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrStaleCredentials
		}
		return nil
	})
}

// SessionByToken returns a live session and extends it by lim.Idle, never
// past lim.Absolute from its creation. A session of a disabled account, or
// made before the account's last password change, is not found.
func (s *Store) SessionByToken(ctx context.Context, token string, lim SessionLimits) (Session, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `
		UPDATE sessions se SET last_seen_at = now(),
			expires_at = least(now() + make_interval(secs => $2), se.created_at + make_interval(secs => $3))
		FROM staff st
		WHERE se.id_hash = $1 AND se.expires_at > now()
		  AND se.created_at + make_interval(secs => $3) > now()
		  AND st.id = se.staff_id AND st.session_epoch = se.epoch AND st.disabled_at IS NULL
		RETURNING se.staff_id, se.csrf_token, se.created_at, se.expires_at`,
		hashToken(token), lim.Idle.Seconds(), lim.Absolute.Seconds())
	sess, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Session])
	if errors.Is(err, pgx.ErrNoRows) {
		return Session{}, ErrNotFound
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: session: %w", err)
	}
	return sess, nil
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

// EndSessions ends every session of an account.
func (s *Store) EndSessions(ctx context.Context, staffID int64) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error { return endSessions(ctx, tx, staffID) })
}

// CountSessions returns how many sessions an account has, live or not yet
// purged, for tests and tools.
func (s *Store) CountSessions(ctx context.Context, staffID int64) (int64, error) {
	return s.count(ctx, "count sessions", `SELECT count(*) FROM sessions WHERE staff_id = $1`, staffID)
}

// DeleteExpiredSessions removes sessions past their expiry (idle or
// absolute: expires_at never passes the absolute end) and those a
// credential change voided, a batch at a time. (Rows without an account,
// which the previous release made for its login form, expire by their own
// expires_at.)
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	return s.deleteBatches(ctx, "expire sessions", `
		DELETE FROM sessions WHERE id_hash IN (
			SELECT se.id_hash FROM sessions se LEFT JOIN staff st ON st.id = se.staff_id
			WHERE se.expires_at <= now() OR st.session_epoch <> se.epoch OR st.disabled_at IS NOT NULL
			LIMIT $1 FOR UPDATE OF se SKIP LOCKED)`)
}

// cleanupBatch bounds each delete of a cleanup so that every statement
// stays well inside the statement timeout, however large the backlog.
const cleanupBatch = 5000

// deleteBatches runs sql (which takes the batch size as $1, then args)
// until it affects fewer rows than a batch, and returns the total. Rows
// another replica is deleting at the same moment are skipped (SKIP
// LOCKED), so replicas cleaning up together neither wait for nor
// double-count each other.
func (s *Store) deleteBatches(ctx context.Context, op, sql string, args ...any) (int64, error) {
	var total int64
	for {
		c, cancel := s.ctx(ctx)
		tag, err := s.pool.Exec(c, sql, append([]any{cleanupBatch}, args...)...)
		cancel()
		if err != nil {
			return total, fmt.Errorf("store: %s: %w", op, err)
		}
		total += tag.RowsAffected()
		if tag.RowsAffected() < cleanupBatch {
			return total, nil
		}
	}
}
