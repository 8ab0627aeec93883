package store

import (
	"context"
	"fmt"
	"net/netip"
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
