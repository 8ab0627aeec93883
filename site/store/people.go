package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// InvitationTTL is how long an invitation link opens an account.
const InvitationTTL = 72 * time.Hour

// TopicStaffInvite is the outbox topic of an invitation's e-mail; its
// payload is an InviteMail.
const TopicStaffInvite = "staff.invite"

// Invitation is an offer of an account in a Society, sent as a single-use
// link.
type Invitation struct {
	ID         int64      `db:"id"`
	Email      string     `db:"email"`
	Society    string     `db:"society"`
	Role       string     `db:"role"`
	PageEditor bool       `db:"page_editor"`
	InvitedBy  *int64     `db:"invited_by"`
	CreatedAt  time.Time  `db:"created_at"`
	ExpiresAt  time.Time  `db:"expires_at"`
	AcceptedAt *time.Time `db:"accepted_at"`
	RevokedAt  *time.Time `db:"revoked_at"`
	StaffID    *int64     `db:"staff_id"`
}

// Pending reports whether the invitation can still be accepted at now.
func (i Invitation) Pending(now time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

// InviteMail is what the worker needs to send an invitation: the token,
// sealed (bound to the invitation), so that the outbox holds no link
// that opens an account.
type InviteMail struct {
	Invitation int64  `json:"invitation"`
	Email      string `json:"email"`
	Language   string `json:"language"`
	KeyID      string `json:"key_id"`
	Sealed     []byte `json:"sealed"`
}

// Errors of accepting an invitation.
var (
	ErrInvitationUsed    = errors.New("store: the invitation was used or withdrawn")
	ErrInvitationExpired = errors.New("store: the invitation has expired")
)

func tokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

const invitationColumns = `id, email, society, role, page_editor, invited_by, created_at, expires_at, accepted_at, revoked_at, staff_id`

// Invite stores an invitation for the token and queues its e-mail, in one
// transaction; mail builds the e-mail's payload once the invitation has its
// id. It withdraws earlier pending invitations of the same address, and
// fails with ErrDuplicate when the address already has an account.
func (s *Store) Invite(ctx context.Context, inv Invitation, token string, mail func(id int64) InviteMail) (Invitation, error) {
	var out Invitation
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff WHERE email = $1)`, inv.Email).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return ErrDuplicate
		}
		if _, err := tx.Exec(ctx, `UPDATE staff_invitations SET revoked_at = now()
			WHERE email = $1 AND accepted_at IS NULL AND revoked_at IS NULL`, inv.Email); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `
			INSERT INTO staff_invitations (token_hash, email, society, role, page_editor, invited_by, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
			RETURNING `+invitationColumns,
			tokenHash(token), inv.Email, inv.Society, inv.Role, inv.PageEditor, inv.InvitedBy, InvitationTTL.Seconds())
		var err error
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Invitation])
		if err != nil {
			return err
		}
		return Enqueue(ctx, tx, TopicStaffInvite, mail(out.ID))
	})
	if errors.Is(err, ErrDuplicate) {
		return Invitation{}, err
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("store: invite: %w", err)
	}
	return out, nil
}

// InvitationKeep is how long an invitation (its invitee's address) is
// kept once it was used, withdrawn or expired; the audit log keeps what
// happened.
const InvitationKeep = 90 * 24 * time.Hour

// DeleteOldInvitations deletes the invitations over for InvitationKeep.
func (s *Store) DeleteOldInvitations(ctx context.Context) (int64, error) {
	return s.deleteBatches(ctx, "delete invitations", `
		DELETE FROM staff_invitations WHERE id IN (
			SELECT id FROM staff_invitations
			WHERE coalesce(accepted_at, revoked_at, expires_at) < now() - make_interval(secs => $2)
			LIMIT $1 FOR UPDATE SKIP LOCKED)`, InvitationKeep.Seconds())
}

// InvitationByToken finds the invitation of a link, whatever its state.
func (s *Store) InvitationByToken(ctx context.Context, token string) (Invitation, error) {
	return one[Invitation](ctx, s, "invitation", `SELECT `+invitationColumns+` FROM staff_invitations WHERE token_hash = $1`, tokenHash(token))
}

// Invitations lists a Society's invitations ("" for every Society), newest
// first, at most limit.
func (s *Store) Invitations(ctx context.Context, society string, limit int) ([]Invitation, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `SELECT `+invitationColumns+` FROM staff_invitations
		WHERE ($1 = '' OR society = $1) ORDER BY id DESC LIMIT $2`, society, limit)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Invitation])
	if err != nil {
		return nil, fmt.Errorf("store: invitations: %w", err)
	}
	return out, nil
}

// RevokeInvitation withdraws a pending invitation of a Society.
func (s *Store) RevokeInvitation(ctx context.Context, id int64, society string) error {
	return s.execOne(ctx, "revoke invitation", `UPDATE staff_invitations SET revoked_at = now()
		WHERE id = $1 AND society = $2 AND accepted_at IS NULL AND revoked_at IS NULL`, id, society)
}

// AcceptInvitation opens the account an invitation offers, with the
// password the invitee chose, and spends the invitation, in one
// transaction: two acceptances racing make one account.
func (s *Store) AcceptInvitation(ctx context.Context, token, passwordHash, language string) (Staff, Invitation, error) {
	var st Staff
	var inv Invitation
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `SELECT `+invitationColumns+` FROM staff_invitations WHERE token_hash = $1 FOR UPDATE`, tokenHash(token))
		var err error
		inv, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Invitation])
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if inv.AcceptedAt != nil || inv.RevokedAt != nil {
			return ErrInvitationUsed
		}
		var expired bool
		if err := tx.QueryRow(ctx, `SELECT $1::timestamptz <= now()`, inv.ExpiresAt).Scan(&expired); err != nil {
			return err
		}
		if expired {
			return ErrInvitationExpired
		}
		rows, _ = tx.Query(ctx, `
			INSERT INTO staff (email, society, role, password_hash, must_change_password, page_editor, language)
			VALUES ($1, $2, $3, $4, false, $5, $6) RETURNING `+staffColumns,
			inv.Email, inv.Society, inv.Role, passwordHash, inv.PageEditor, language)
		st, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Staff])
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return ErrDuplicate
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE staff_invitations SET accepted_at = now(), staff_id = $2 WHERE id = $1`, inv.ID, st.ID)
		return err
	})
	switch {
	case err == nil:
		return st, inv, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrInvitationUsed), errors.Is(err, ErrInvitationExpired), errors.Is(err, ErrDuplicate):
		return Staff{}, inv, err
	}
	return Staff{}, inv, fmt.Errorf("store: accept invitation: %w", err)
}

// StaffOf lists the accounts of a Society ("" for every account), by
// e-mail address.
func (s *Store) StaffOf(ctx context.Context, society string) ([]Staff, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `SELECT `+staffColumns+` FROM staff
		WHERE ($1 = '' OR society = $1) ORDER BY society NULLS FIRST, email LIMIT 2000`, society)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Staff])
	if err != nil {
		return nil, fmt.Errorf("store: staff of %q: %w", society, err)
	}
	return out, nil
}

// SetRole sets an account's role and page-editor permission. Its sessions
// go on: a role is read from the account at every request.
func (s *Store) SetRole(ctx context.Context, id int64, role string, pageEditor bool) error {
	return s.execOne(ctx, "set role", `UPDATE staff SET role = $2, page_editor = $3 WHERE id = $1`, id, role, pageEditor)
}

// EnableStaff enables a disabled account again (its old sessions stay void).
func (s *Store) EnableStaff(ctx context.Context, id int64) error {
	return s.execOne(ctx, "enable staff", `UPDATE staff SET disabled_at = NULL WHERE id = $1`, id)
}
