package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// TOTP is an account's second factor as stored: its secret sealed with the
// site's keyring (bound to the row), and whether a first code confirmed it.
type TOTP struct {
	KeyID     string     `db:"totp_key_id"`
	Sealed    []byte     `db:"totp_sealed"`
	EnabledAt *time.Time `db:"totp_enabled_at"`
	LastStep  int64      `db:"totp_last_step"`
}

// ErrTOTPEnabled is returned when an enrolment is started or confirmed for
// an account whose second factor is already on.
var ErrTOTPEnabled = errors.New("store: the second factor is already on")

// TOTPOf returns an account's second factor; ErrNotFound when it has none,
// not even one being enrolled.
func (s *Store) TOTPOf(ctx context.Context, staffID int64) (TOTP, error) {
	return one[TOTP](ctx, s, "totp", `
		SELECT totp_key_id, totp_sealed, totp_enabled_at, totp_last_step FROM staff
		WHERE id = $1 AND totp_sealed IS NOT NULL`, staffID)
}

// BeginTOTP stores a new secret for an account that has no second factor
// on, replacing any enrolment that a code never confirmed.
func (s *Store) BeginTOTP(ctx context.Context, staffID int64, keyID string, sealed []byte) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `
		UPDATE staff SET totp_key_id = $2, totp_sealed = $3, totp_last_step = 0
		WHERE id = $1 AND totp_enabled_at IS NULL`, staffID, keyID, sealed)
	if err != nil {
		return fmt.Errorf("store: begin totp: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrTOTPEnabled
	}
	return nil
}

// EnableTOTP turns the enrolled secret on, after its first code (of time
// step step, which cannot be used again), and stores the recovery codes'
// hashes in place of any earlier ones.
func (s *Store) EnableTOTP(ctx context.Context, staffID, step int64, recovery []string) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE staff SET totp_enabled_at = now(), totp_last_step = $2
			WHERE id = $1 AND totp_enabled_at IS NULL AND totp_sealed IS NOT NULL`, staffID, step)
		if err != nil {
			return fmt.Errorf("store: enable totp: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrTOTPEnabled
		}
		return replaceRecoveryCodes(ctx, tx, staffID, recovery)
	})
}

// UseTOTPStep records that a code of time step step opened the account. It
// reports false when that step, or a later one, was already used: a code
// is good once, even to two requests racing.
func (s *Store) UseTOTPStep(ctx context.Context, staffID, step int64) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `
		UPDATE staff SET totp_last_step = $2
		WHERE id = $1 AND totp_enabled_at IS NOT NULL AND totp_last_step < $2`, staffID, step)
	if err != nil {
		return false, fmt.Errorf("store: use totp: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// RecoveryCodes is how many recovery codes an account gets.
const RecoveryCodes = 10

func recoveryHash(code string) []byte {
	sum := sha256.Sum256([]byte(code))
	return sum[:]
}

func replaceRecoveryCodes(ctx context.Context, tx pgx.Tx, staffID int64, codes []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM staff_recovery_codes WHERE staff_id = $1`, staffID); err != nil {
		return fmt.Errorf("store: recovery codes: %w", err)
	}
	for _, c := range codes {
		if _, err := tx.Exec(ctx, `INSERT INTO staff_recovery_codes (staff_id, code_hash) VALUES ($1, $2)`, staffID, recoveryHash(c)); err != nil {
			return fmt.Errorf("store: recovery codes: %w", err)
		}
	}
	return nil
}

// NewRecoveryCodes replaces an account's recovery codes.
func (s *Store) NewRecoveryCodes(ctx context.Context, staffID int64, codes []string) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error { return replaceRecoveryCodes(ctx, tx, staffID, codes) })
}

// UseRecoveryCode spends one of an account's unused recovery codes (as the
// user typed it, normalized by the caller). It reports whether the code
// was good, and how many unused codes are left.
func (s *Store) UseRecoveryCode(ctx context.Context, staffID int64, code string) (ok bool, left int64, err error) {
	err = s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE staff_recovery_codes SET used_at = now()
			WHERE staff_id = $1 AND code_hash = $2 AND used_at IS NULL`, staffID, recoveryHash(code))
		if err != nil {
			return err
		}
		ok = tag.RowsAffected() == 1
		return tx.QueryRow(ctx, `SELECT count(*) FROM staff_recovery_codes WHERE staff_id = $1 AND used_at IS NULL`, staffID).Scan(&left)
	})
	if err != nil {
		return false, 0, fmt.Errorf("store: recovery code: %w", err)
	}
	return ok, left, nil
}

// RecoveryCodesLeft counts an account's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, staffID int64) (int64, error) {
	return s.count(ctx, "recovery codes", `SELECT count(*) FROM staff_recovery_codes WHERE staff_id = $1 AND used_at IS NULL`, staffID)
}

// ResetTOTP removes an account's second factor and recovery codes and ends
// its sessions: it enrols again at its next sign-in.
func (s *Store) ResetTOTP(ctx context.Context, staffID int64) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE staff SET totp_key_id = NULL, totp_sealed = NULL, totp_enabled_at = NULL, totp_last_step = 0,
				session_epoch = session_epoch + 1
			WHERE id = $1`, staffID)
		if err != nil {
			return fmt.Errorf("store: reset totp: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if _, err := tx.Exec(ctx, `DELETE FROM staff_recovery_codes WHERE staff_id = $1`, staffID); err != nil {
			return fmt.Errorf("store: reset totp: %w", err)
		}
		return endSessions(ctx, tx, staffID)
	})
}

// SocietyRequiresTOTP reports whether a Society requires a second factor
// of every account.
func (s *Store) SocietyRequiresTOTP(ctx context.Context, society string) (bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var on bool
	err := s.pool.QueryRow(ctx, `SELECT require_totp FROM society_policies WHERE society = $1`, society).Scan(&on)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: society policy: %w", err)
	}
	return on, nil
}

// SetSocietyRequiresTOTP sets whether a Society requires a second factor.
func (s *Store) SetSocietyRequiresTOTP(ctx context.Context, society string, on bool) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO society_policies (society, require_totp) VALUES ($1, $2)
		ON CONFLICT (society) DO UPDATE SET require_totp = $2, updated_at = now()`, society, on)
	if err != nil {
		return fmt.Errorf("store: society policy: %w", err)
	}
	return nil
}
