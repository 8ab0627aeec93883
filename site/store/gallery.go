package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Outbox topics of the gallery; the payload is GalleryNotice.
const (
	TopicGalleryIndex  = "gallery.index"  // published: add to the search index
	TopicGalleryRemove = "gallery.remove" // withdrawn: remove from the search index
)

// GalleryNotice names the entry an outbox message is about.
type GalleryNotice struct {
	Ref string `json:"ref"`
}

// Withdrawal reasons.
const (
	WithdrawConsent     = "consent_withdrawn"
	WithdrawFamilyFound = "family_found"
	WithdrawExpired     = "review_expired"
	WithdrawOther       = "other"
)

// ErrSelfApproval is returned when the person who created an entry tries to
// publish it: a second person must approve.
var ErrSelfApproval = errors.New("store: an entry must be approved by a second person")

// GalleryEntry is a Trace the Face entry, with its confidential parts.
type GalleryEntry struct {
	ID                 int64      `db:"id"`
	Ref                string     `db:"ref"`
	Society            string     `db:"society"`
	Status             string     `db:"status"`
	Gender             string     `db:"gender"`
	AgeGroup           string     `db:"age_group"`
	Seeking            []string   `db:"seeking"`
	Origin             string     `db:"origin"`
	Languages          []string   `db:"languages"`
	CaseKeyID          string     `db:"case_key_id"`
	CaseSealed         []byte     `db:"case_sealed"`
	ConsentDate        time.Time  `db:"consent_date"`
	ConsentFormVersion string     `db:"consent_form_version"`
	ConsentRecordedBy  string     `db:"consent_recorded_by"`
	ReviewDate         time.Time  `db:"review_date"`
	CreatedBy          int64      `db:"created_by"`
	ApprovedBy         *int64     `db:"approved_by"`
	CreatedAt          time.Time  `db:"created_at"`
	PublishedAt        *time.Time `db:"published_at"`
	WithdrawnAt        *time.Time `db:"withdrawn_at"`
	WithdrawReason     *string    `db:"withdraw_reason"`
	Demo               bool       `db:"demo"`
}

// PublicEntry is what the public may know of a published entry: never the
// Society, the case reference or the consent record.
type PublicEntry struct {
	Ref         string    `db:"ref"`
	Gender      string    `db:"gender"`
	AgeGroup    string    `db:"age_group"`
	Seeking     []string  `db:"seeking"`
	Origin      string    `db:"origin"`
	Languages   []string  `db:"languages"`
	PublishedAt time.Time `db:"published_at"`
	Demo        bool      `db:"demo"`
}

// Photo is one derivative of an entry's photo.
type Photo struct {
	Width, Height int
	JPEG          []byte
	ETag          string
}

const galleryColumns = `id, ref, society, status, gender, age_group, seeking, origin, languages, case_key_id, case_sealed,
	consent_date, consent_form_version, consent_recorded_by, review_date, created_by, approved_by, created_at,
	published_at, withdrawn_at, withdraw_reason, demo`

const publicColumns = `ref, gender, age_group, seeking, origin, languages, published_at, demo`

// CreateGalleryEntry stores a pending entry and its photos.
func (s *Store) CreateGalleryEntry(ctx context.Context, e GalleryEntry, photos []Photo) (GalleryEntry, error) {
	if e.Languages == nil {
		e.Languages = []string{}
	}
	var out GalleryEntry
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, _ := tx.Query(ctx, `
			INSERT INTO gallery_entries (ref, society, gender, age_group, seeking, origin, languages, case_key_id, case_sealed,
				consent_date, consent_form_version, consent_recorded_by, review_date, created_by, demo)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			RETURNING `+galleryColumns,
			e.Ref, e.Society, e.Gender, e.AgeGroup, e.Seeking, e.Origin, e.Languages, e.CaseKeyID, e.CaseSealed,
			e.ConsentDate, e.ConsentFormVersion, e.ConsentRecordedBy, e.ReviewDate, e.CreatedBy, e.Demo)
		var err error
		if out, err = pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[GalleryEntry]); err != nil {
			return err
		}
		for _, p := range photos {
			if _, err := tx.Exec(ctx, `INSERT INTO gallery_photos (entry_id, width, height, jpeg, etag) VALUES ($1, $2, $3, $4, $5)`,
				out.ID, p.Width, p.Height, p.JPEG, p.ETag); err != nil {
				return err
			}
		}
		return nil
	})
	if uniqueOn(err, "gallery_entries_ref_key") {
		return GalleryEntry{}, ErrDuplicateReference
	}
	if err != nil {
		return GalleryEntry{}, fmt.Errorf("store: create gallery entry: %w", err)
	}
	return out, nil
}

// GalleryEntryByRef finds an entry in any state.
func (s *Store) GalleryEntryByRef(ctx context.Context, ref string) (GalleryEntry, error) {
	return one[GalleryEntry](ctx, s, "gallery entry", `SELECT `+galleryColumns+` FROM gallery_entries WHERE ref = $1`, ref)
}

// GalleryEntries lists a Society's entries ("" for every Society), newest first.
func (s *Store) GalleryEntries(ctx context.Context, society, status string) ([]GalleryEntry, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `
		SELECT `+galleryColumns+` FROM gallery_entries
		WHERE ($1 = '' OR society = $1) AND ($2 = '' OR status = $2)
		ORDER BY created_at DESC, id DESC LIMIT 500`, society, status)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[GalleryEntry])
	if err != nil {
		return nil, fmt.Errorf("store: gallery entries: %w", err)
	}
	return out, nil
}

// ApproveGalleryEntry publishes a pending entry. The approver must not be
// its creator; the caller checks the approver's Society. The index is
// updated through the outbox, in the same transaction.
func (s *Store) ApproveGalleryEntry(ctx context.Context, id, approver int64) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var ref string
		var creator int64
		var status string
		err := tx.QueryRow(ctx, `SELECT ref, created_by, status FROM gallery_entries WHERE id = $1 FOR UPDATE`, id).Scan(&ref, &creator, &status)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: approve: %w", err)
		}
		if creator == approver {
			return ErrSelfApproval
		}
		if status != "pending" {
			return fmt.Errorf("store: approve: entry is %s, not pending", status)
		}
		if _, err := tx.Exec(ctx, `UPDATE gallery_entries SET status = 'published', approved_by = $2, published_at = now() WHERE id = $1`, id, approver); err != nil {
			return fmt.Errorf("store: approve: %w", err)
		}
		return Enqueue(ctx, tx, TopicGalleryIndex, GalleryNotice{Ref: ref})
	})
}

// WithdrawGalleryEntry withdraws an entry at once: status, photos and the
// outbox message that removes it from the index, in one transaction.
func (s *Store) WithdrawGalleryEntry(ctx context.Context, id int64, reason string) error {
	return s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return withdraw(ctx, tx, id, reason)
	})
}

func withdraw(ctx context.Context, tx pgx.Tx, id int64, reason string) error {
	var ref string
	err := tx.QueryRow(ctx, `
		UPDATE gallery_entries SET status = 'withdrawn', withdrawn_at = now(), withdraw_reason = $2, published_at = published_at
		WHERE id = $1 AND status <> 'withdrawn' RETURNING ref`, id, reason).Scan(&ref)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("store: withdraw: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM gallery_photos WHERE entry_id = $1`, id); err != nil {
		return fmt.Errorf("store: withdraw: %w", err)
	}
	return Enqueue(ctx, tx, TopicGalleryRemove, GalleryNotice{Ref: ref})
}

// RenewGalleryConsent sets a new review date on a published or pending entry.
func (s *Store) RenewGalleryConsent(ctx context.Context, id int64, review time.Time) error {
	return s.execOne(ctx, "renew", `UPDATE gallery_entries SET review_date = $2 WHERE id = $1 AND status <> 'withdrawn'`, id, review)
}

// ExpireGalleryReviews withdraws every published entry whose review date
// has passed without renewal.
func (s *Store) ExpireGalleryReviews(ctx context.Context, today time.Time) (int, error) {
	n := 0
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM gallery_entries WHERE status = 'published' AND review_date < $1 FOR UPDATE SKIP LOCKED`, today)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := withdraw(ctx, tx, id, WithdrawExpired); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: expire reviews: %w", err)
	}
	return n, nil
}

// PublicEntryByRef returns a published entry's public fields; a withdrawn
// one gives ErrWithdrawn, a missing or pending one ErrNotFound.
func (s *Store) PublicEntryByRef(ctx context.Context, ref string) (PublicEntry, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var status string
	err := s.pool.QueryRow(ctx, `SELECT status FROM gallery_entries WHERE ref = $1`, ref).Scan(&status)
	if errors.Is(err, pgx.ErrNoRows) || status == "pending" {
		return PublicEntry{}, ErrNotFound
	}
	if err != nil {
		return PublicEntry{}, fmt.Errorf("store: public entry: %w", err)
	}
	if status == "withdrawn" {
		return PublicEntry{}, ErrWithdrawn
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+publicColumns+` FROM gallery_entries WHERE ref = $1 AND status = 'published'`, ref)
	e, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[PublicEntry])
	if errors.Is(err, pgx.ErrNoRows) {
		return PublicEntry{}, ErrWithdrawn
	}
	if err != nil {
		return PublicEntry{}, fmt.Errorf("store: public entry: %w", err)
	}
	return e, nil
}

// ErrWithdrawn is returned for an entry that was published and is no more.
var ErrWithdrawn = errors.New("store: withdrawn")

// GalleryCheck is what the public gallery reads from PostgreSQL for a page.
type GalleryCheck struct {
	// Live holds the refs asked about that are published now, each with
	// whether it is a demo entry. A ref that is not published is absent:
	// the check made before a search hit is shown, so that a withdrawal is
	// seen at once even while the index lags.
	Live map[string]bool
	// Reunited counts entries withdrawn because the family was found, for
	// the public statistic.
	Reunited int64
}

// CheckGallery answers both questions of GalleryCheck in one round trip.
// refs may be empty.
func (s *Store) CheckGallery(ctx context.Context, refs []string) (GalleryCheck, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var live []string
	var demo []bool
	chk := GalleryCheck{}
	err := s.pool.QueryRow(ctx, `
		SELECT coalesce(array_agg(ref ORDER BY ref), '{}'), coalesce(array_agg(demo ORDER BY ref), '{}'),
			(SELECT count(*) FROM gallery_entries WHERE withdraw_reason = 'family_found' AND NOT demo)
		FROM gallery_entries WHERE ref = ANY($1) AND status = 'published'`, refs).Scan(&live, &demo, &chk.Reunited)
	if err != nil {
		return GalleryCheck{}, fmt.Errorf("store: check gallery: %w", err)
	}
	if len(live) != len(demo) {
		return GalleryCheck{}, fmt.Errorf("store: check gallery: %d refs but %d demo flags", len(live), len(demo))
	}
	chk.Live = make(map[string]bool, len(live))
	for i, ref := range live {
		chk.Live[ref] = demo[i]
	}
	return chk, nil
}

// GalleryPhoto returns a derivative of a published entry's photo only.
func (s *Store) GalleryPhoto(ctx context.Context, ref string, width int) (Photo, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	p := Photo{Width: width}
	err := s.pool.QueryRow(ctx, `
		SELECT p.height, p.jpeg, p.etag FROM gallery_photos p JOIN gallery_entries e ON e.id = p.entry_id
		WHERE e.ref = $1 AND p.width = $2 AND e.status = 'published'`, ref, width).Scan(&p.Height, &p.JPEG, &p.ETag)
	if errors.Is(err, pgx.ErrNoRows) {
		return Photo{}, ErrNotFound
	}
	if err != nil {
		return Photo{}, fmt.Errorf("store: photo: %w", err)
	}
	return p, nil
}

// EachPublished calls fn for every published entry, oldest first, reading
// in pages so that a large gallery streams.
func (s *Store) EachPublished(ctx context.Context, fn func([]PublicEntry) error) error {
	last := int64(0)
	for {
		qctx, cancel := s.ctx(ctx)
		rows, _ := s.pool.Query(qctx, `
			SELECT id, `+publicColumns+` FROM gallery_entries WHERE status = 'published' AND id > $1 ORDER BY id LIMIT 5000`, last)
		type row struct {
			ID int64 `db:"id"`
			PublicEntry
		}
		page, err := pgx.CollectRows(rows, pgx.RowToStructByName[row])
		cancel()
		if err != nil {
			return fmt.Errorf("store: each published: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		out := make([]PublicEntry, len(page))
		for i, r := range page {
			out[i] = r.PublicEntry
		}
		if err := fn(out); err != nil {
			return err
		}
		last = page[len(page)-1].ID
	}
}

// GalleryPhotoOf returns a derivative of any entry's photo, for its
// Society's staff (a pending entry is previewed before approval).
func (s *Store) GalleryPhotoOf(ctx context.Context, entryID int64, width int) (Photo, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	p := Photo{Width: width}
	err := s.pool.QueryRow(ctx, `SELECT height, jpeg, etag FROM gallery_photos WHERE entry_id = $1 AND width = $2`,
		entryID, width).Scan(&p.Height, &p.JPEG, &p.ETag)
	if errors.Is(err, pgx.ErrNoRows) {
		return Photo{}, ErrNotFound
	}
	if err != nil {
		return Photo{}, fmt.Errorf("store: photo: %w", err)
	}
	return p, nil
}

// GalleryWidths lists the widths an entry's photo has, smallest first.
func (s *Store) GalleryWidths(ctx context.Context, entryID int64) ([]int, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `SELECT width FROM gallery_photos WHERE entry_id = $1 ORDER BY width`, entryID)
	out, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return nil, fmt.Errorf("store: photo widths: %w", err)
	}
	return out, nil
}

// GalleryFilter selects published entries without the search engine.
type GalleryFilter struct {
	Gender, AgeGroup, Origin, Seeking string
	Page, PerPage                     int // 1-based
}

// GalleryPage is one page of published entries, newest first, with the
// count of each value of each filter over the whole selection.
type GalleryPage struct {
	Entries []PublicEntry
	Total   int64
	Facets  map[string]map[string]int64
}

// SearchPublished is the gallery answered by PostgreSQL alone: the
// degraded mode used while Meilisearch is down. Filters and counts work;
// text search does not.
func (s *Store) SearchPublished(ctx context.Context, f GalleryFilter) (GalleryPage, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if f.PerPage <= 0 {
		f.PerPage = 24
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	const where = `status = 'published' AND ($1 = '' OR gender = $1) AND ($2 = '' OR age_group = $2)
		AND ($3 = '' OR origin = $3) AND ($4 = '' OR $4 = ANY(seeking))`
	args := []any{f.Gender, f.AgeGroup, f.Origin, f.Seeking}
	p := GalleryPage{Facets: map[string]map[string]int64{}}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM gallery_entries WHERE `+where, args...).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("store: gallery search: %w", err)
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+publicColumns+` FROM gallery_entries WHERE `+where+`
		ORDER BY published_at DESC, id DESC LIMIT $5 OFFSET $6`, append(args, f.PerPage, (f.Page-1)*f.PerPage)...)
	entries, err := pgx.CollectRows(rows, pgx.RowToStructByName[PublicEntry])
	if err != nil {
		return p, fmt.Errorf("store: gallery search: %w", err)
	}
	p.Entries = entries
	for field, expr := range map[string]string{"gender": "gender", "age_group": "age_group", "origin": "origin", "seeking": "unnest(seeking)"} {
		rows, err := s.pool.Query(ctx, `SELECT v, count(*) FROM (SELECT `+expr+` AS v FROM gallery_entries WHERE `+where+`) x GROUP BY v`, args...)
		if err != nil {
			return p, fmt.Errorf("store: gallery facets: %w", err)
		}
		counts := map[string]int64{}
		for rows.Next() {
			var v string
			var n int64
			if err := rows.Scan(&v, &n); err != nil {
				rows.Close()
				return p, err
			}
			counts[v] = n
		}
		rows.Close()
		p.Facets[field] = counts
	}
	return p, nil
}

// GalleryPhotoNear returns the derivative of a published entry closest to
// width, preferring one no wider: a small photo has fewer derivatives.
func (s *Store) GalleryPhotoNear(ctx context.Context, ref string, width int) (Photo, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var p Photo
	err := s.pool.QueryRow(ctx, `
		SELECT p.width, p.height, p.jpeg, p.etag FROM gallery_photos p JOIN gallery_entries e ON e.id = p.entry_id
		WHERE e.ref = $1 AND e.status = 'published'
		ORDER BY (p.width <= $2) DESC, abs(p.width - $2) LIMIT 1`, ref, width).Scan(&p.Width, &p.Height, &p.JPEG, &p.ETag)
	if errors.Is(err, pgx.ErrNoRows) {
		return Photo{}, ErrNotFound
	}
	if err != nil {
		return Photo{}, fmt.Errorf("store: photo: %w", err)
	}
	return p, nil
}

// GalleryCount counts entries in any state.
func (s *Store) GalleryCount(ctx context.Context) (int64, error) {
	return s.count(ctx, "gallery count", `SELECT count(*) FROM gallery_entries`)
}
