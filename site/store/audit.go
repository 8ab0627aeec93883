package store

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditEntry is one line of the audit log: who saw or changed what.
type AuditEntry struct {
	ID         int64          `db:"id"`
	At         time.Time      `db:"at"`
	StaffID    *int64         `db:"staff_id"`
	Actor      string         `db:"actor"`
	Society    *string        `db:"society"`
	Action     string         `db:"action"`
	ObjectType string         `db:"object_type"`
	ObjectID   string         `db:"object_id"`
	IP         *netip.Addr    `db:"ip"`
	Detail     map[string]any `db:"detail"`
}

// Audit writes an entry. The caller decides what to do when it fails; a
// view of personal data must not be shown without its audit line.
func (s *Store) Audit(ctx context.Context, e AuditEntry) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if e.Detail == nil {
		e.Detail = map[string]any{}
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO audit_log (staff_id, actor, society, action, object_type, object_id, ip, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.StaffID, e.Actor, e.Society, e.Action, e.ObjectType, e.ObjectID, e.IP, e.Detail)
	if err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AuditLog returns the newest entries first, at most limit.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `
		SELECT id, at, staff_id, actor, society, action, object_type, object_id, ip, detail
		FROM audit_log ORDER BY id DESC LIMIT $1`, limit)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[AuditEntry])
	if err != nil {
		return nil, fmt.Errorf("store: audit log: %w", err)
	}
	return out, nil
}

// ForgetAuditAddresses erases the client address of audit entries older
// than keep, a batch at a time, and returns how many it erased. The
// entries themselves stay: who did what, and when, outlives the address.
func (s *Store) ForgetAuditAddresses(ctx context.Context, keep time.Duration) (int64, error) {
	return s.deleteBatches(ctx, "audit address retention", `
		UPDATE audit_log SET ip = NULL WHERE id IN (
			SELECT id FROM audit_log WHERE ip IS NOT NULL AND at < now() - make_interval(secs => $2)
			LIMIT $1 FOR UPDATE SKIP LOCKED)`, keep.Seconds())
}

// MinAuditKeep is the shortest time audit entries are kept: the database
// refuses to delete a younger one (migration 007).
const MinAuditKeep = 365 * 24 * time.Hour

// DeleteOldAudit deletes audit entries older than keep (at least
// MinAuditKeep), a batch at a time, and returns how many it deleted.
func (s *Store) DeleteOldAudit(ctx context.Context, keep time.Duration) (int64, error) {
	keep = max(keep, MinAuditKeep)
	return s.deleteBatches(ctx, "audit retention", `
		DELETE FROM audit_log WHERE id IN (
			SELECT id FROM audit_log WHERE at < now() - make_interval(secs => $2)
			LIMIT $1 FOR UPDATE SKIP LOCKED)`, keep.Seconds())
}

// AuditFilter selects audit entries; empty fields match everything.
type AuditFilter struct {
	Society  string // the Society whose data was seen or changed
	Actor    string // the account's e-mail, exactly
	Action   string // exactly, or a prefix ending in "." ("card.")
	ObjectID string // an enquiry or gallery reference, a card version…
	From, To time.Time
	Limit    int
	BeforeID int64 // for the next page: entries older than this one
}

// AuditEntries lists entries matching f, newest first.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	action, prefix := f.Action, strings.HasSuffix(f.Action, ".")
	rows, _ := s.pool.Query(ctx, `
		SELECT id, at, staff_id, actor, society, action, object_type, object_id, ip, detail
		FROM audit_log
		WHERE ($1 = '' OR society = $1) AND ($2 = '' OR actor = $2)
		  AND ($3 = '' OR (CASE WHEN $4 THEN starts_with(action, $3) ELSE action = $3 END))
		  AND ($5 = '' OR object_id = $5)
		  AND ($6::timestamptz IS NULL OR at >= $6) AND ($7::timestamptz IS NULL OR at < $7)
		  AND ($8 = 0 OR id < $8)
		ORDER BY id DESC LIMIT $9`, f.Society, f.Actor, action, prefix, f.ObjectID, from, to, f.BeforeID, f.Limit)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[AuditEntry])
	if err != nil {
		return nil, fmt.Errorf("store: audit entries: %w", err)
	}
	return out, nil
}
