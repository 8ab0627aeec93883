package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Enquiry statuses and outcomes.
const (
	StatusNew        = "new"
	StatusInProgress = "in_progress"
	StatusClosed     = "closed"
)

// Outcomes returns the outcomes a closed enquiry can have.
func Outcomes() []string { return []string{"contact_restored", "referred", "no_result", "declined"} }

// TopicEnquiryNotify is the outbox topic that e-mails an inbox about an
// enquiry; its payload is EnquiryNotice.
const TopicEnquiryNotify = "enquiry.notify"

// EnquiryNotice is the payload of TopicEnquiryNotify: no personal data.
type EnquiryNotice struct {
	Reference string `json:"reference"`
	Inbox     string `json:"inbox"`
}

// Personal is the part of an enquiry that is personal data: the contact
// form seals it (crypt.EnquiryPersonal) before it is stored, and only the
// back office opens it. The store keeps it sealed and never reads it.
type Personal struct {
	Name        string `json:"name"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	SoughtName  string `json:"sought_name"`
	SoughtAge   string `json:"sought_age,omitempty"`
	SoughtPlace string `json:"sought_place,omitempty"`
	LostWhen    string `json:"lost_when,omitempty"`
	Message     string `json:"message,omitempty"`
}

// Enquiry is a request for help. Sealed holds the personal data, encrypted
// by the caller; it is nil once purged.
type Enquiry struct {
	ID           int64      `db:"id"`
	Reference    string     `db:"reference"`
	Kind         string     `db:"kind"`
	Residence    string     `db:"residence"`
	Lang         string     `db:"lang"`
	Inbox        string     `db:"inbox"`
	RouteReason  string     `db:"route_reason"`
	RouteNote    string     `db:"route_note"`
	GalleryRef   *string    `db:"gallery_ref"`
	Relationship string     `db:"relationship"`
	Circumstance string     `db:"circumstance"`
	Status       string     `db:"status"`
	Outcome      *string    `db:"outcome"`
	KeyID        *string    `db:"key_id"`
	Sealed       []byte     `db:"sealed"`
	CreatedAt    time.Time  `db:"created_at"`
	UpdatedAt    time.Time  `db:"updated_at"`
	ClosedAt     *time.Time `db:"closed_at"`
	PurgedAt     *time.Time `db:"purged_at"`
}

const enquiryColumns = `id, reference, kind, residence, lang, inbox, route_reason, route_note, gallery_ref,
	relationship, circumstance, status, outcome, key_id, sealed, created_at, updated_at, closed_at, purged_at`

// CreateEnquiry stores an enquiry and, in the same transaction, the outbox
// message that notifies its inbox. When it returns nil the enquiry is
// committed: only then may the visitor be told it was received.
func (s *Store) CreateEnquiry(ctx context.Context, e Enquiry) (Enquiry, error) {
	var out Enquiry
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `
			INSERT INTO enquiries (reference, kind, residence, lang, inbox, route_reason, route_note, gallery_ref,
				relationship, circumstance, key_id, sealed)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			RETURNING `+enquiryColumns,
			e.Reference, e.Kind, e.Residence, e.Lang, e.Inbox, e.RouteReason, e.RouteNote, e.GalleryRef,
			e.Relationship, e.Circumstance, e.KeyID, e.Sealed)
		var err error
		out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[Enquiry])
		if err != nil {
			return err
		}
		return Enqueue(ctx, tx, TopicEnquiryNotify, EnquiryNotice{Reference: out.Reference, Inbox: out.Inbox})
	})
	if uniqueOn(err, "enquiries_reference_key") {
		return Enquiry{}, ErrDuplicateReference
	}
	if err != nil {
		return Enquiry{}, fmt.Errorf("store: create enquiry: %w", err)
	}
	return out, nil
}

// EnquiryByRef finds an enquiry by its reference.
func (s *Store) EnquiryByRef(ctx context.Context, ref string) (Enquiry, error) {
	return one[Enquiry](ctx, s, "enquiry", `SELECT `+enquiryColumns+` FROM enquiries WHERE reference = $1`, ref)
}

// EnquiryFilter selects enquiries for an inbox list.
type EnquiryFilter struct {
	Inbox  string // "" for every inbox (administrators only)
	Status string // "" for every status
	Limit  int
	Offset int
}

// Enquiries lists enquiries, newest first.
func (s *Store) Enquiries(ctx context.Context, f EnquiryFilter) ([]Enquiry, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	rows, _ := s.pool.Query(ctx, `
		SELECT `+enquiryColumns+` FROM enquiries
		WHERE ($1 = '' OR inbox = $1) AND ($2 = '' OR status = $2)
		ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`, f.Inbox, f.Status, f.Limit, f.Offset)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Enquiry])
	if err != nil {
		return nil, fmt.Errorf("store: enquiries: %w", err)
	}
	return out, nil
}

// CountEnquiries counts the enquiries CreateEnquiry has committed.
func (s *Store) CountEnquiries(ctx context.Context) (int64, error) {
	return s.count(ctx, "count enquiries", `SELECT count(*) FROM enquiries`)
}

// EnquiryEvent is one step in an enquiry's history.
type EnquiryEvent struct {
	ID        int64     `db:"id"`
	At        time.Time `db:"at"`
	StaffID   *int64    `db:"staff_id"`
	Actor     *string   `db:"actor"`
	Kind      string    `db:"kind"`
	Status    *string   `db:"status"`
	Outcome   *string   `db:"outcome"`
	FromInbox *string   `db:"from_inbox"`
	ToInbox   *string   `db:"to_inbox"`
	KeyID     *string   `db:"key_id"`
	Sealed    []byte    `db:"sealed"`
}

// Events returns an enquiry's history, oldest first.
func (s *Store) Events(ctx context.Context, enquiryID int64) ([]EnquiryEvent, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `
		SELECT e.id, e.at, e.staff_id, s.email AS actor, e.kind, e.status, e.outcome, e.from_inbox, e.to_inbox, e.key_id, e.sealed
		FROM enquiry_events e LEFT JOIN staff s ON s.id = e.staff_id
		WHERE e.enquiry_id = $1 ORDER BY e.id`, enquiryID)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[EnquiryEvent])
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return out, nil
}

// AddNote adds a sealed internal note.
func (s *Store) AddNote(ctx context.Context, enquiryID, staffID int64, keyID string, sealed []byte) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `
		INSERT INTO enquiry_events (enquiry_id, staff_id, kind, key_id, sealed) VALUES ($1, $2, 'note', $3, $4)`,
		enquiryID, staffID, keyID, sealed)
	if err != nil {
		return fmt.Errorf("store: add note: %w", err)
	}
	return nil
}

// SetStatus moves an enquiry to a status; closing needs an outcome.
func (s *Store) SetStatus(ctx context.Context, enquiryID, staffID int64, status, outcome string) error {
	var out *string
	if status == StatusClosed {
		out = &outcome
	}
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE enquiries SET status = $2, outcome = $3, updated_at = now(),
				closed_at = CASE WHEN $2 = 'closed' THEN coalesce(closed_at, now()) ELSE NULL END
			WHERE id = $1 AND purged_at IS NULL`, enquiryID, status, out)
		if err != nil {
			return fmt.Errorf("store: set status: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		_, err = tx.Exec(ctx, `INSERT INTO enquiry_events (enquiry_id, staff_id, kind, status, outcome) VALUES ($1, $2, 'status', $3, $4)`,
			enquiryID, staffID, status, out)
		return err
	})
}

// Transfer moves an enquiry to another inbox, with a sealed reason, and
// notifies the new inbox through the outbox.
func (s *Store) Transfer(ctx context.Context, enquiryID, staffID int64, to, keyID string, sealedReason []byte) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var ref, from string
		err := tx.QueryRow(ctx, `SELECT reference, inbox FROM enquiries WHERE id = $1 FOR UPDATE`, enquiryID).Scan(&ref, &from)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: transfer: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE enquiries SET inbox = $2, route_reason = 'transferred', route_note = $3, updated_at = now()
			WHERE id = $1`, enquiryID, to, "transferred from "+from); err != nil {
			return fmt.Errorf("store: transfer: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO enquiry_events (enquiry_id, staff_id, kind, from_inbox, to_inbox, key_id, sealed)
			VALUES ($1, $2, 'transfer', $3, $4, $5, $6)`, enquiryID, staffID, from, to, keyID, sealedReason); err != nil {
			return fmt.Errorf("store: transfer: %w", err)
		}
		return Enqueue(ctx, tx, TopicEnquiryNotify, EnquiryNotice{Reference: ref, Inbox: to})
	})
}

// PurgeClosed removes the personal data of enquiries closed before cutoff,
// notes and reasons included, and leaves a tombstone: reference, dates,
// route and outcome.
func (s *Store) PurgeClosed(ctx context.Context, cutoff time.Time) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var n int64
	err := s.pool.QueryRow(ctx, `
		WITH purged AS (
			UPDATE enquiries SET sealed = NULL, key_id = NULL, purged_at = now(), updated_at = now()
			WHERE status = 'closed' AND closed_at < $1 AND purged_at IS NULL
			RETURNING id),
		notes AS (
			UPDATE enquiry_events SET sealed = NULL, key_id = NULL
			WHERE enquiry_id IN (SELECT id FROM purged)
			RETURNING 1)
		SELECT count(*) FROM purged`, cutoff).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: purge: %w", err)
	}
	return n, nil
}

// SealedValue is one encrypted value, for re-encryption under a new key.
type SealedValue struct {
	Table     string // "enquiries", "enquiry_events", "gallery_entries" or "staff"
	ID        int64
	Reference string // the enquiry's or entry's reference, or the account's id: the value's associated data
	KeyID     string
	Sealed    []byte
}

// Rekey re-encrypts, in batches, every sealed value whose key is not
// current or that is not yet bound to its table, column and row (it lacks
// the "FLv2" mark of crypt.SealAt): reseal gets the old value and returns the new one. It returns
// how many values it changed.
func (s *Store) Rekey(ctx context.Context, current string, reseal func(v SealedValue) (keyID string, sealed []byte, err error)) (int, error) {
	total := 0
	for _, q := range []struct{ table, keyCol, sealedCol, sql string }{
		{"enquiries", "key_id", "sealed", `SELECT id, reference, key_id, sealed FROM enquiries
			WHERE key_id IS NOT NULL AND (key_id <> $1 OR substring(sealed FROM 1 FOR 4) <> '\x464c7632'::bytea) AND id > $2 ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED`},
		{"enquiry_events", "key_id", "sealed", `SELECT e.id, q.reference, e.key_id, e.sealed FROM enquiry_events e JOIN enquiries q ON q.id = e.enquiry_id
			WHERE e.key_id IS NOT NULL AND (e.key_id <> $1 OR substring(e.sealed FROM 1 FOR 4) <> '\x464c7632'::bytea) AND e.id > $2 ORDER BY e.id LIMIT 200 FOR UPDATE OF e SKIP LOCKED`},
		{"gallery_entries", "case_key_id", "case_sealed", `SELECT id, ref, case_key_id, case_sealed FROM gallery_entries
			WHERE (case_key_id <> $1 OR substring(case_sealed FROM 1 FOR 4) <> '\x464c7632'::bytea) AND id > $2 ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED`},
		{"staff", "totp_key_id", "totp_sealed", `SELECT id, id::text AS ref, totp_key_id, totp_sealed FROM staff
			WHERE totp_sealed IS NOT NULL AND (totp_key_id <> $1 OR substring(totp_sealed FROM 1 FOR 4) <> '\x464c7632'::bytea) AND id > $2 ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED`},
	} {
		// Rows are taken in id order past the last one done, so a reseal
		// that leaves a value still matching cannot loop.
		var last int64
		for {
			n := 0
			err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
				rows, err := tx.Query(ctx, q.sql, current, last)
				if err != nil {
					return err
				}
				var batch []SealedValue
				for rows.Next() {
					v := SealedValue{Table: q.table}
					if err := rows.Scan(&v.ID, &v.Reference, &v.KeyID, &v.Sealed); err != nil {
						rows.Close()
						return err
					}
					batch = append(batch, v)
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
				for _, v := range batch {
					kid, sealed, err := reseal(v)
					if err != nil {
						return fmt.Errorf("%s %d: %w", v.Table, v.ID, err)
					}
					if _, err := tx.Exec(ctx, `UPDATE `+q.table+` SET `+q.keyCol+` = $2, `+q.sealedCol+` = $3 WHERE id = $1`, v.ID, kid, sealed); err != nil {
						return err
					}
				}
				n = len(batch)
				if n > 0 {
					last = batch[n-1].ID
				}
				return nil
			})
			if err != nil {
				return total, fmt.Errorf("store: rekey: %w", err)
			}
			total += n
			if n == 0 {
				break
			}
		}
	}
	return total, nil
}

// Inbox holds an inbox's settings.
type Inbox struct {
	Code              string  `db:"code"`
	NotificationEmail *string `db:"notification_email"`
	SwitchedOff       bool    `db:"switched_off"`
	Caseworkers       int     `db:"caseworkers"`
}

// Active reports whether enquiries may be routed to this Society inbox: it
// has an enabled caseworker and an administrator has not switched it off.
func (i Inbox) Active() bool { return !i.SwitchedOff && i.Caseworkers > 0 }

// InboxByCode returns an inbox's settings and its enabled caseworkers.
func (s *Store) InboxByCode(ctx context.Context, code string) (Inbox, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	in := Inbox{Code: code}
	err := s.pool.QueryRow(ctx, `
		SELECT (SELECT notification_email FROM inboxes WHERE code = $1),
		       coalesce((SELECT switched_off FROM inboxes WHERE code = $1), false),
		       (SELECT count(*) FROM staff WHERE society = $1 AND role = 'caseworker' AND disabled_at IS NULL)`,
		code).Scan(&in.NotificationEmail, &in.SwitchedOff, &in.Caseworkers)
	if err != nil {
		return Inbox{}, fmt.Errorf("store: inbox: %w", err)
	}
	return in, nil
}

// ActiveInboxes returns every inbox that has an enabled caseworker and is
// not switched off.
func (s *Store) ActiveInboxes(ctx context.Context) (map[string]bool, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `
		SELECT DISTINCT st.society FROM staff st
		LEFT JOIN inboxes i ON i.code = st.society
		WHERE st.role = 'caseworker' AND st.disabled_at IS NULL AND st.society IS NOT NULL
		  AND NOT coalesce(i.switched_off, false)`)
	codes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("store: active inboxes: %w", err)
	}
	out := make(map[string]bool, len(codes))
	for _, c := range codes {
		out[c] = true
	}
	return out, nil
}

// SetInbox stores an inbox's notification address and switch.
func (s *Store) SetInbox(ctx context.Context, code, email string, switchedOff bool, staffID int64) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var addr *string
	if email != "" {
		addr = &email
	}
	_, err := s.pool.Exec(ctx, `
		INSERT INTO inboxes (code, notification_email, switched_off, updated_by) VALUES ($1, $2, $3, $4)
		ON CONFLICT (code) DO UPDATE SET notification_email = $2, switched_off = $3, updated_by = $4, updated_at = now()`,
		code, addr, switchedOff, staffID)
	if err != nil {
		return fmt.Errorf("store: set inbox: %w", err)
	}
	return nil
}
