package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Errors of the card workflow.
var (
	// ErrSamePerson: the person who saved a draft may not publish it.
	ErrSamePerson = errors.New("store: a draft is published by someone other than the person who saved it")
	// ErrNotDraft: the version is no longer a draft (published, rejected
	// or replaced by a newer draft).
	ErrNotDraft = errors.New("store: that version is not an open draft")
	// ErrExample: an example draft is never published.
	ErrExample = errors.New("store: an example card is never published")
)

// CardStaleAfter is how long a published card is trusted without anyone
// confirming it. After that the public page says so, and the Society's
// page editors are reminded (RemindStaleCards), again every
// CardRemindEvery until someone confirms or publishes.
const (
	CardStaleAfter  = 365 * 24 * time.Hour
	CardRemindEvery = 30 * 24 * time.Hour
)

// TopicCardStale is the outbox topic of a reminder; its payload is a
// CardReminder, which holds nothing personal.
const TopicCardStale = "card.stale"

// CardReminder asks a Society's page editors to check its card.
type CardReminder struct {
	Society   string    `json:"society"`
	Confirmed time.Time `json:"confirmed"`
}

// CardVersion is one saved version of a Society's contact card.
type CardVersion struct {
	ID           int64             `db:"id"`
	Society      string            `db:"society"`
	Status       string            `db:"status"` // draft, published, superseded, rejected, withdrawn
	Card         json.RawMessage   `db:"card"`
	NotesHTML    map[string]string `db:"notes_html"`
	SavedBy      int64             `db:"saved_by"`
	SavedAt      time.Time         `db:"saved_at"`
	DecidedBy    *int64            `db:"decided_by"`
	DecidedAt    *time.Time        `db:"decided_at"`
	ConfirmedAt  *time.Time        `db:"confirmed_at"`
	RestoredFrom *int64            `db:"restored_from"`
	// Example marks a draft seeded to show the back office: it can never
	// be published (the database refuses).
	Example bool `db:"example"`
}

const cardColumns = `id, society, status, card, notes_html, saved_by, saved_at, decided_by, decided_at, confirmed_at, restored_from, example`

// CardActor is who acts on a card, for the audit log.
type CardActor struct {
	StaffID int64
	Email   string
}

// SaveCardDraft stores a new draft of a Society's card; an older open
// draft of the same Society is replaced (kept as superseded). The save and
// its audit line (with the card saved and the one published, so that what
// changed can be read from it) commit together.
func (s *Store) SaveCardDraft(ctx context.Context, society string, card json.RawMessage, restoredFrom *int64, by CardActor) (CardVersion, error) {
	var out CardVersion
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE society_cards SET status = 'superseded' WHERE society = $1 AND status = 'draft'`, society); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `INSERT INTO society_cards (society, status, card, saved_by, restored_from)
			VALUES ($1, 'draft', $2, $3, $4) RETURNING `+cardColumns, society, card, by.StaffID, restoredFrom)
		var err error
		if out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[CardVersion]); err != nil {
			return err
		}
		action := "card.save"
		if restoredFrom != nil {
			action = "card.restore"
		}
		// The published card beside the saved one, so that the line says
		// what the draft would change.
		var before json.RawMessage
		err = tx.QueryRow(ctx, `SELECT card FROM society_cards WHERE society = $1 AND status = 'published'`, society).Scan(&before)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return cardAudit(ctx, tx, by, society, action, out.ID, map[string]any{"before": before, "card": card, "restored_from": restoredFrom})
	})
	if err != nil {
		return CardVersion{}, fmt.Errorf("store: save card: %w", err)
	}
	return out, nil
}

// SaveExampleCard stores an example draft for a Society that has no card
// yet, saved by by (the demo account). It returns false when the Society
// already has a version, example or not.
func (s *Store) SaveExampleCard(ctx context.Context, society string, card json.RawMessage, by CardActor) (bool, error) {
	var made bool
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO society_cards (society, status, card, saved_by, example)
			SELECT $1, 'draft', $2, $3, true WHERE NOT EXISTS (SELECT 1 FROM society_cards WHERE society = $1)`, society, card, by.StaffID)
		if err != nil {
			return err
		}
		if made = tag.RowsAffected() == 1; !made {
			return nil
		}
		return cardAudit(ctx, tx, by, society, "card.example", 0, map[string]any{"card": card})
	})
	if err != nil {
		return false, fmt.Errorf("store: save example card: %w", err)
	}
	return made, nil
}

// PublishCard publishes a draft: someone other than the person who saved
// it. The version published until then is kept as superseded. notesHTML is
// the notes rendered and sanitised now. The audit line records both
// versions' cards, so that what changed can be read from it.
func (s *Store) PublishCard(ctx context.Context, id int64, notesHTML map[string]string, by CardActor) (CardVersion, error) {
	var out CardVersion
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		d, err := lockCard(ctx, tx, id)
		if err != nil {
			return err
		}
		if d.Status != "draft" {
			return ErrNotDraft
		}
		if d.Example {
			return ErrExample
		}
		if d.SavedBy == by.StaffID {
			return ErrSamePerson
		}
		var before json.RawMessage
		err = tx.QueryRow(ctx, `UPDATE society_cards SET status = 'superseded' WHERE society = $1 AND status = 'published' RETURNING card`, d.Society).Scan(&before)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if notesHTML == nil {
			notesHTML = map[string]string{}
		}
		rows, _ := tx.Query(ctx, `UPDATE society_cards SET status = 'published', notes_html = $2, decided_by = $3, decided_at = now(), confirmed_at = now()
			WHERE id = $1 RETURNING `+cardColumns, id, notesHTML, by.StaffID)
		if out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[CardVersion]); err != nil {
			return err
		}
		if err := notifyCards(ctx, tx, d.Society); err != nil {
			return err
		}
		return cardAudit(ctx, tx, by, d.Society, "card.publish", id, map[string]any{"before": before, "after": d.Card})
	})
	if err != nil {
		return CardVersion{}, fmt.Errorf("store: publish card: %w", err)
	}
	return out, nil
}

// RejectCard closes a draft without publishing it; why goes to the audit
// log.
func (s *Store) RejectCard(ctx context.Context, id int64, why string, by CardActor) error {
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		d, err := lockCard(ctx, tx, id)
		if err != nil {
			return err
		}
		if d.Status != "draft" {
			return ErrNotDraft
		}
		if _, err := tx.Exec(ctx, `UPDATE society_cards SET status = 'rejected', decided_by = $2, decided_at = now() WHERE id = $1`, id, by.StaffID); err != nil {
			return err
		}
		return cardAudit(ctx, tx, by, d.Society, "card.reject", id, map[string]any{"why": why, "card": d.Card})
	})
	if err != nil {
		return fmt.Errorf("store: reject card: %w", err)
	}
	return nil
}

// ConfirmCard records that a Society's published card is still correct,
// unchanged: its confirmation date becomes now.
func (s *Store) ConfirmCard(ctx context.Context, society string, by CardActor) (CardVersion, error) {
	var out CardVersion
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `UPDATE society_cards SET confirmed_at = now() WHERE society = $1 AND status = 'published' RETURNING `+cardColumns, society)
		var err error
		if out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[CardVersion]); errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if err := notifyCards(ctx, tx, society); err != nil {
			return err
		}
		return cardAudit(ctx, tx, by, society, "card.confirm", out.ID, nil)
	})
	if err != nil {
		return CardVersion{}, fmt.Errorf("store: confirm card: %w", err)
	}
	return out, nil
}

// CardHistory lists a Society's versions, newest first.
func (s *Store) CardHistory(ctx context.Context, society string) ([]CardVersion, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `SELECT `+cardColumns+` FROM society_cards WHERE society = $1 ORDER BY id DESC`, society)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[CardVersion])
	if err != nil {
		return nil, fmt.Errorf("store: card history: %w", err)
	}
	return out, nil
}

// OpenDrafts lists every Society's open draft that is not an example,
// oldest first.
func (s *Store) OpenDrafts(ctx context.Context) ([]CardVersion, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `SELECT `+cardColumns+` FROM society_cards WHERE status = 'draft' AND NOT example ORDER BY id`)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[CardVersion])
	if err != nil {
		return nil, fmt.Errorf("store: open drafts: %w", err)
	}
	return out, nil
}

// CardVersionByID finds one version (any Society: callers check who may
// see it).
func (s *Store) CardVersionByID(ctx context.Context, id int64) (CardVersion, error) {
	return one[CardVersion](ctx, s, "card version", `SELECT `+cardColumns+` FROM society_cards WHERE id = $1`, id)
}

// PublishedCards returns every Society's published card, by Society code:
// what the public pages show. Drafts never leave the back office.
func (s *Store) PublishedCards(ctx context.Context) (map[string]CardVersion, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `SELECT `+cardColumns+` FROM society_cards WHERE status = 'published'`)
	list, err := pgx.CollectRows(rows, pgx.RowToStructByName[CardVersion])
	if err != nil {
		return nil, fmt.Errorf("store: published cards: %w", err)
	}
	out := make(map[string]CardVersion, len(list))
	for _, v := range list {
		out[v.Society] = v
	}
	return out, nil
}

func lockCard(ctx context.Context, tx pgx.Tx, id int64) (CardVersion, error) {
	rows, _ := tx.Query(ctx, `SELECT `+cardColumns+` FROM society_cards WHERE id = $1 FOR UPDATE`, id)
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[CardVersion])
	if errors.Is(err, pgx.ErrNoRows) {
		return CardVersion{}, ErrNotFound
	}
	return v, err
}

// RemindStaleCards queues a reminder for each published card nobody has
// confirmed for CardStaleAfter, unless one was queued since it was last
// confirmed and less than CardRemindEvery ago. The mark and the message
// commit together, so a reminder is queued once however many replicas
// run this.
func (s *Store) RemindStaleCards(ctx context.Context) (int64, error) {
	var n int64
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `UPDATE society_cards SET reminded_at = now()
			WHERE status = 'published' AND confirmed_at < now() - make_interval(secs => $1)
			  AND (reminded_at IS NULL OR reminded_at < confirmed_at OR reminded_at < now() - make_interval(secs => $2))
			RETURNING society, confirmed_at`, CardStaleAfter.Seconds(), CardRemindEvery.Seconds())
		due, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CardReminder])
		if err != nil {
			return err
		}
		for _, r := range due {
			if err := Enqueue(ctx, tx, TopicCardStale, r); err != nil {
				return err
			}
		}
		n = int64(len(due))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: remind stale cards: %w", err)
	}
	return n, nil
}

// Recipient is an account an e-mail goes to, with the language of its
// back office (a URL code), which its e-mails speak too.
type Recipient struct {
	Email    string `db:"email"`
	Language string `db:"language"`
}

// PageEditors lists a Society's enabled page editors, by address.
func (s *Store) PageEditors(ctx context.Context, society string) ([]Recipient, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `SELECT email, language FROM staff WHERE society = $1 AND page_editor AND disabled_at IS NULL ORDER BY email`, society)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[Recipient])
	if err != nil {
		return nil, fmt.Errorf("store: page editors: %w", err)
	}
	return out, nil
}

// notifyCards tells every replica, when tx commits, that a Society's
// published card changed.
func notifyCards(ctx context.Context, tx pgx.Tx, society string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, CardsChannel, society)
	return err
}

func cardAudit(ctx context.Context, tx pgx.Tx, by CardActor, society, action string, id int64, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (staff_id, actor, society, action, object_type, object_id, detail)
		VALUES ($1, $2, $3, $4, 'card', $5, $6)`, by.StaffID, by.Email, society, action, fmt.Sprint(id), detail)
	return err
}
