// Package store keeps the site's durable state in PostgreSQL through pgx:
// staff, sessions, the audit log, the outbox and rate-limit counters. Every
// method takes ctx first and bounds the call with the store's timeout.
package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when no row matches.
var ErrNotFound = errors.New("store: not found")

// DefaultTimeout bounds each store call that has no tighter deadline.
const DefaultTimeout = 5 * time.Second

// Store is the PostgreSQL store. It is safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	hits    hitKeys // the secret behind rate-limit keys (ratelimit.go)
}

// Open connects to PostgreSQL and checks the connection. statement_timeout
// is set on every connection, so a runaway query stops in the server too.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse DATABASE_URL: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "5000"
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "10000"
	cfg.ConnConfig.RuntimeParams["application_name"] = "familylinks"
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	s := &Store{pool: pool, timeout: DefaultTimeout}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes every connection.
func (s *Store) Close() { s.pool.Close() }

// Pool exposes the pool for metrics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

func (s *Store) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.timeout)
}

// Ping checks that PostgreSQL answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// Migrate applies every embedded migration not yet applied. tern takes an
// advisory lock, so replicas starting together migrate once.
func (s *Store) Migrate(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Release()
	m, err := migrate.NewMigrator(ctx, conn.Conn(), "schema_version")
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	if err := m.LoadMigrations(sub); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// SchemaVersion returns the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int32, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var v int32
	err := s.pool.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// Tx runs fn in a transaction, committed when fn returns nil. fn must use
// the ctx it is given: it carries the store's timeout.
func (s *Store) Tx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
}

// one runs a query that must return one row, scanned by column name into
// T; no row is ErrNotFound.
func one[T any](ctx context.Context, s *Store, op, sql string, args ...any) (T, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	rows, _ := s.pool.Query(ctx, sql, args...)
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[T])
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	if err != nil {
		return v, fmt.Errorf("store: %s: %w", op, err)
	}
	return v, nil
}

// execOne runs a statement that changes rows; ErrNotFound when it changed
// none (the row is not there, or not in the state the statement asks).
func (s *Store) execOne(ctx context.Context, op, sql string, args ...any) error {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, sql, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// count runs a query that returns one number.
func (s *Store) count(ctx context.Context, op, sql string, args ...any) (int64, error) {
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	var n int64
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: %s: %w", op, err)
	}
	return n, nil
}
