package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Roles of staff accounts.
const (
	RoleCaseworker = "caseworker"
	// RoleSocietyAdmin is a caseworker who also manages the accounts of
	// their own Society: invitations, roles, disabling, second factors.
	RoleSocietyAdmin = "society_admin"
	// RoleAdmin is a Movement administrator: every Society.
	RoleAdmin = "admin"
)

// ErrDuplicate is returned when a unique value is already taken.
var ErrDuplicate = errors.New("store: already exists")

// Staff is a back-office account.
type Staff struct {
	ID           int64      `db:"id"`
	Email        string     `db:"email"`
	Society      *string    `db:"society"`
	Role         string     `db:"role"`
	PasswordHash string     `db:"password_hash"`
	MustChange   bool       `db:"must_change_password"`
	CreatedAt    time.Time  `db:"created_at"`
	DisabledAt   *time.Time `db:"disabled_at"`
	// PasswordExpiresAt is when a one-time password stops opening the
	// account; nil for a password the account chose.
	PasswordExpiresAt *time.Time `db:"password_expires_at"`
	// SessionEpoch changes with every password change, reset and disable;
	// a session made under another epoch is void.
	SessionEpoch int64 `db:"session_epoch"`
	// PageEditor: the account keeps its Society's contact card.
	PageEditor bool `db:"page_editor"`
	// Language is the URL code of the language of the account's
	// back-office pages and e-mails.
	Language string `db:"language"`
	// TOTPEnabledAt is when the account confirmed its second factor; nil
	// without one (or while an enrolment awaits its first code).
	TOTPEnabledAt *time.Time `db:"totp_enabled_at"`
	// TOTPRequired: the account's Society requires a second factor of
	// every account (society_policies).
	TOTPRequired bool `db:"totp_required"`
}

// SocietyAdmin reports whether the account manages its own Society's
// accounts.
func (s Staff) SocietyAdmin() bool { return s.Role == RoleSocietyAdmin }

// NeedsTOTP reports whether the account may not work without a second
// factor: administrators of either kind always, others when their Society
// requires it.
func (s Staff) NeedsTOTP() bool { return s.Admin() || s.SocietyAdmin() || s.TOTPRequired }

// CanManage reports whether the account may manage other's accounts of a
// Society: its own Society's administrators, and Movement administrators.
func (s Staff) CanManage(society string) bool {
	return s.Admin() || (s.SocietyAdmin() && society != "" && s.SocietyCode() == society)
}

// OneTimePasswordTTL is how long a one-time password (from `staff add` or
// `staff reset`) opens the account: long enough to reach someone over a
// weekend, short enough that a forgotten one in a mailbox goes stale.
const OneTimePasswordTTL = 72 * time.Hour

// OneTimeExpired reports whether the account is still on a one-time
// password whose time has passed at now.
func (s Staff) OneTimeExpired(now time.Time) bool {
	return s.MustChange && s.PasswordExpiresAt != nil && !now.Before(*s.PasswordExpiresAt)
}

// Admin reports whether the account sees every Society.
func (s Staff) Admin() bool { return s.Role == RoleAdmin }

// SocietyCode is the account's Society, or "" for an administrator without one.
func (s Staff) SocietyCode() string {
	if s.Society == nil {
		return ""
	}
	return *s.Society
}

// CanSee reports whether the account may see data of a Society.
func (s Staff) CanSee(society string) bool {
	return s.Admin() || (society != "" && s.SocietyCode() == society)
}

// CanEditCard reports whether the account may save and publish the
// contact card of a Society: its own Society's page editors, and
// administrators.
func (s Staff) CanEditCard(society string) bool {
	return s.Admin() || (s.PageEditor && society != "" && s.SocietyCode() == society)
}

// SetLanguage sets the language of an account's back-office pages and
// e-mails (a URL code of locales.Languages; the caller checks it).
func (s *Store) SetLanguage(ctx context.Context, id int64, lang string) error {
	return s.execOne(ctx, "language", `UPDATE staff SET language = $2 WHERE id = $1`, id, lang)
}

// SetPageEditor grants or removes the page-editor permission.
func (s *Store) SetPageEditor(ctx context.Context, email string, on bool) error {
	return s.execOne(ctx, "page editor", `UPDATE staff SET page_editor = $2 WHERE email = $1`, email, on)
}

// CreateStaff adds an account; email must already be lower-case. The
// account must change its password at first login when oneTime is set, and
// a one-time password expires after OneTimePasswordTTL.
func (s *Store) CreateStaff(ctx context.Context, email, society, role, passwordHash string, oneTime bool) (Staff, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var soc *string
	if society != "" {
		soc = &society
	}
	rows, _ := s.pool.Query(ctx, `
		INSERT INTO staff (email, society, role, password_hash, must_change_password, password_expires_at)
		VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 THEN now() + make_interval(secs => $6) END)
		RETURNING `+staffColumns, email, soc, role, passwordHash, oneTime, OneTimePasswordTTL.Seconds())
	st, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Staff])
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return Staff{}, fmt.Errorf("store: create staff %s: %w", email, ErrDuplicate)
	}
	if err != nil {
		return Staff{}, fmt.Errorf("store: create staff: %w", err)
	}
	return st, nil
}

const staffColumns = `id, email, society, role, password_hash, must_change_password, created_at, disabled_at, password_expires_at, session_epoch, page_editor, language, totp_enabled_at,
	coalesce((SELECT p.require_totp FROM society_policies p WHERE p.society = staff.society), false) AS totp_required`

// StaffByEmail finds an account, enabled or not.
func (s *Store) StaffByEmail(ctx context.Context, email string) (Staff, error) {
	return s.oneStaff(ctx, `SELECT `+staffColumns+` FROM staff WHERE email = $1`, email)
}

// StaffByID finds an account, enabled or not.
func (s *Store) StaffByID(ctx context.Context, id int64) (Staff, error) {
	return s.oneStaff(ctx, `SELECT `+staffColumns+` FROM staff WHERE id = $1`, id)
}

func (s *Store) oneStaff(ctx context.Context, sql string, arg any) (Staff, error) {
	return one[Staff](ctx, s, "staff", sql, arg)
}

// DisableStaff disables an account and ends every session of it at once.
func (s *Store) DisableStaff(ctx context.Context, email string) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `
			UPDATE staff SET disabled_at = coalesce(disabled_at, now()), session_epoch = session_epoch + 1
			WHERE email = $1 RETURNING id`, email).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: disable staff: %w", err)
		}
		return endSessions(ctx, tx, id)
	})
}

// SetPassword replaces an account's password hash and ends every session
// of the account, in one transaction; mustChange marks the password
// one-time, expiring after OneTimePasswordTTL. It returns the account as
// it now is (its new SessionEpoch is what a new session must carry).
func (s *Store) SetPassword(ctx context.Context, id int64, hash string, mustChange bool) (Staff, error) {
	var st Staff
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `
			UPDATE staff SET password_hash = $2, must_change_password = $3,
				password_expires_at = CASE WHEN $3 THEN now() + make_interval(secs => $4) END,
				session_epoch = session_epoch + 1
			WHERE id = $1 RETURNING `+staffColumns, id, hash, mustChange, OneTimePasswordTTL.Seconds())
		var err error
		st, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Staff])
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: set password: %w", err)
		}
		return endSessions(ctx, tx, id)
	})
	return st, err
}

func endSessions(ctx context.Context, tx pgx.Tx, staffID int64) error {
	if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE staff_id = $1`, staffID); err != nil {
		return fmt.Errorf("store: end sessions: %w", err)
	}
	return nil
}

// DemoStaff returns the account that seeds example data (`familylinks dev`),
// creating it disabled: an argon2id hash of nothing anyone can type, and
// nobody can sign in with it anyway.
func (s *Store) DemoStaff(ctx context.Context, email, society string) (Staff, error) {
	a, err := s.StaffByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		a, err = s.CreateStaff(ctx, email, society, RoleCaseworker, "$argon2id$v=19$m=19456,t=2,p=1$ZGVtbw$ZGVtbw", false)
		if err == nil {
			err = s.DisableStaff(ctx, email)
		}
	}
	if err != nil {
		return Staff{}, fmt.Errorf("store: demo account %s: %w", email, err)
	}
	return a, nil
}
