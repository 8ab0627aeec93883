package store

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
)

// OutboxMessage is one row of the transactional outbox.
type OutboxMessage struct {
	ID       int64           `db:"id"`
	Topic    string          `db:"topic"`
	Payload  json.RawMessage `db:"payload"`
	Attempts int             `db:"attempts"`
}

// Enqueue adds a message to the outbox inside the caller's transaction, so
// that it exists if and only if the change it announces is committed.
func Enqueue(ctx context.Context, tx pgx.Tx, topic string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("store: enqueue %s: %w", topic, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO outbox (topic, payload) VALUES ($1, $2)`, topic, b); err != nil {
		return fmt.Errorf("store: enqueue %s: %w", topic, err)
	}
	return nil
}

// OutboxHandler handles one message. An error schedules a retry.
type OutboxHandler func(ctx context.Context, m OutboxMessage) error

// Worker applies outbox messages. Any number of workers, in any number of
// replicas, can run side by side: a message is claimed with FOR UPDATE SKIP
// LOCKED and leased, so two workers never handle it at the same time.
type Worker struct {
	Store    *Store
	Handlers map[string]OutboxHandler
	Log      *slog.Logger
	// Batch is how many messages one claim takes (default 20).
	Batch int
	// Lease is how long a claimed message is reserved; a handler gets half
	// of it as its deadline (default 2 minutes).
	Lease time.Duration
	// Poll is the pause when there is nothing to do (default 1 s).
	Poll time.Duration
	// Backoff gives the delay before retry n (1-based); default doubles
	// from 1 s up to 1 hour, with jitter.
	Backoff func(attempt int) time.Duration
}

func (w *Worker) defaults() {
	if w.Batch <= 0 {
		w.Batch = 20
	}
	if w.Lease <= 0 {
		w.Lease = 2 * time.Minute
	}
	if w.Poll <= 0 {
		w.Poll = time.Second
	}
	if w.Backoff == nil {
		w.Backoff = DefaultBackoff
	}
	if w.Log == nil {
		w.Log = slog.Default()
	}
}

// DefaultBackoff doubles from one second to one hour, plus up to 20% jitter
// so that failures do not retry in lockstep.
func DefaultBackoff(attempt int) time.Duration {
	d := time.Second << min(attempt-1, 12)
	d = min(d, time.Hour)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// Run handles messages until ctx is cancelled.
func (w *Worker) Run(ctx context.Context) error {
	w.defaults()
	for {
		n, err := w.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			w.Log.Warn("outbox: claim failed", "err", err)
		}
		if n == w.Batch && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.Poll):
		}
	}
}

// RunOnce claims one batch and handles it; it returns how many messages it
// claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	w.defaults()
	claimed := time.Now()
	msgs, err := w.Store.claim(ctx, w.Batch, w.Lease)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		err := w.handle(ctx, m)
		if err == nil {
			err = w.record(ctx, claimed, func(ctx context.Context) error { return w.Store.outboxDone(ctx, m.ID) })
			if err != nil {
				w.Log.Error("outbox: mark done", "id", m.ID, "err", err)
			}
			continue
		}
		delay := w.Backoff(m.Attempts)
		w.Log.Warn("outbox: handler failed", "id", m.ID, "topic", m.Topic, "attempt", m.Attempts, "retry_in", delay.String(), "err", err)
		ferr := w.record(ctx, claimed, func(ctx context.Context) error { return w.Store.outboxFailed(ctx, m.ID, err.Error(), delay) })
		if ferr != nil {
			w.Log.Error("outbox: record failure", "id", m.ID, "err", ferr)
		}
	}
	return len(msgs), nil
}

// record writes the outcome of a message claimed at claimed. It is written
// even when ctx ends meanwhile (shutdown): otherwise a sent mail would be
// sent again when the lease expires. While PostgreSQL cannot be reached (a
// restart, a failover) it tries again: until the outcome is written the
// message stays leased to this worker, so giving up at once would hold it
// back for the whole lease, and a handled one would then be handled again.
// It gives up when ctx ends or three quarters of the lease are gone.
func (w *Worker) record(ctx context.Context, claimed time.Time, write func(context.Context) error) error {
	rec := context.WithoutCancel(ctx)
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		err := write(rec)
		if err == nil || time.Since(claimed)+delay > w.Lease*3/4 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

func (w *Worker) handle(ctx context.Context, m OutboxMessage) (err error) {
	h, ok := w.Handlers[m.Topic]
	if !ok {
		return fmt.Errorf("no handler for topic %q", m.Topic)
	}
	ctx, cancel := context.WithTimeout(ctx, w.Lease/2)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return h(ctx, m)
}

func (s *Store) claim(ctx context.Context, n int, lease time.Duration) ([]OutboxMessage, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `
		UPDATE outbox SET locked_until = now() + make_interval(secs => $2), attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM outbox
			WHERE done_at IS NULL AND next_attempt_at <= now()
			  AND (locked_until IS NULL OR locked_until < now())
			ORDER BY id
			LIMIT $1
			FOR UPDATE SKIP LOCKED)
		RETURNING id, topic, payload, attempts`, n, lease.Seconds())
	msgs, err := pgx.CollectRows(rows, pgx.RowToStructByName[OutboxMessage])
	if err != nil {
		return nil, fmt.Errorf("store: outbox claim: %w", err)
	}
	return msgs, nil
}

func (s *Store) outboxDone(ctx context.Context, id int64) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `UPDATE outbox SET done_at = now(), locked_until = NULL, last_error = NULL WHERE id = $1`, id)
	return err
}

func (s *Store) outboxFailed(ctx context.Context, id int64, msg string, delay time.Duration) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	_, err := s.pool.Exec(ctx, `
		UPDATE outbox SET locked_until = NULL, last_error = $2, next_attempt_at = now() + make_interval(secs => $3)
		WHERE id = $1`, id, msg, delay.Seconds())
	return err
}

// OutboxRow is an outbox message with its bookkeeping, for tests and tools.
type OutboxRow struct {
	ID            int64      `db:"id"`
	Topic         string     `db:"topic"`
	Attempts      int        `db:"attempts"`
	NextAttemptAt time.Time  `db:"next_attempt_at"`
	LastError     *string    `db:"last_error"`
	DoneAt        *time.Time `db:"done_at"`
}

// OutboxRows lists the outbox, oldest first.
func (s *Store) OutboxRows(ctx context.Context) ([]OutboxRow, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, `SELECT id, topic, attempts, next_attempt_at, last_error, done_at FROM outbox ORDER BY id`)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[OutboxRow])
	if err != nil {
		return nil, fmt.Errorf("store: outbox rows: %w", err)
	}
	return out, nil
}

// OutboxStats reports how many messages wait and how long the oldest has
// waited: the outbox lag.
func (s *Store) OutboxStats(ctx context.Context) (pending int64, oldest time.Duration, err error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var secs float64
	err = s.pool.QueryRow(ctx, `
		SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)
		FROM outbox WHERE done_at IS NULL`).Scan(&pending, &secs)
	if err != nil {
		return 0, 0, fmt.Errorf("store: outbox stats: %w", err)
	}
	return pending, time.Duration(secs * float64(time.Second)), nil
}

// DeleteFinishedOutbox deletes messages handled more than keep ago, a batch
// at a time, and returns how many it deleted. Pending and failing messages
// stay, however old.
func (s *Store) DeleteFinishedOutbox(ctx context.Context, keep time.Duration) (int64, error) {
	return s.deleteBatches(ctx, "outbox cleanup", `
		DELETE FROM outbox WHERE id IN (
			SELECT id FROM outbox WHERE done_at IS NOT NULL AND done_at < now() - make_interval(secs => $2)
			LIMIT $1 FOR UPDATE SKIP LOCKED)`, keep.Seconds())
}
