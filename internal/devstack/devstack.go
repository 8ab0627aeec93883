// Package devstack starts local PostgreSQL and Meilisearch servers for `familylinks dev` and for tests.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrMissing marks a failure to find (or install) an engine's binary. Tests
// skip on it outside CI; everything else is a real failure.
var ErrMissing = errors.New("engine not available")

// Options configures Start.
type Options struct {
	// Dir is the root for data and logs: "var" for dev. A non-persistent
	// stack makes a fresh directory inside Dir (the system temp dir if
	// empty) and removes it on Stop; Dir itself is never removed.
	Dir string
	// Persistent keeps data, ports and the Meilisearch key across runs
	// (dev). Without it, Stop removes everything and PostgreSQL runs with
	// fsync off (tests).
	Persistent bool
	// PGPort and MeiliPort pin the ports; 0 picks one (dev: the port of the
	// previous run, else 54329 / 7709, else any free port).
	PGPort, MeiliPort int
	// Log receives progress; nil discards it. The engines' own output goes
	// to pg.log and meili.log under the data directory.
	Log                     *slog.Logger
	SkipMeili, SkipPostgres bool
}

// Stack is a running pair of engines. Call Stop when done.
type Stack struct {
	// DatabaseURL points at the familylinks database as the superuser.
	DatabaseURL string
	// AdminURL points at the "postgres" maintenance database as the
	// superuser: tests create and drop their own databases through it.
	AdminURL string
	// MeiliURL is the Meilisearch base URL, without a trailing slash.
	MeiliURL string
	// MeiliKey is the Meilisearch master key.
	MeiliKey string

	dir        string
	persistent bool
	log        *slog.Logger
	pg         *pgServer
	meili      *meiliServer
	lock       *os.File // dev: held while running, so two dev stacks never share var/
	remove     []string // non-persistent: directories Stop deletes

	stopOnce sync.Once
	stopErr  error
}

// Default ports for the persistent (dev) stack, chosen away from the
// engines' usual 5432 and 7700 so a system-wide install can keep running.
const (
	defaultPGPort    = 54329
	defaultMeiliPort = 7709
)

// Start starts the engines that Options does not skip, in parallel, and
// returns once both answer. If ctx is cancelled or an engine fails, whatever
// was started is stopped again before Start returns.
func Start(ctx context.Context, o Options) (st *Stack, err error) {
	log := o.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Stack{persistent: o.Persistent, log: log}
	defer func() {
		if err != nil {
			if serr := s.Stop(); serr != nil {
				log.Warn("devstack: cleaning up after a failed start", "err", serr)
			}
			st = nil
		}
	}()

	if o.Persistent {
		if o.Dir == "" {
			return nil, errors.New("devstack: a persistent stack needs Options.Dir")
		}
		dir, err := filepath.Abs(o.Dir)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("devstack: %w", err)
		}
		s.dir = dir
		if s.lock, err = lockDir(dir); err != nil {
			return nil, err
		}
	} else {
		base := o.Dir
		if base == "" {
			base = os.TempDir()
		}
		if err := os.MkdirAll(base, 0o755); err != nil {
			return nil, fmt.Errorf("devstack: %w", err)
		}
		dir, err := os.MkdirTemp(base, "familylinks-devstack-")
		if err != nil {
			return nil, fmt.Errorf("devstack: %w", err)
		}
		dir, err = filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		s.dir = dir
		s.remove = append(s.remove, dir)
		// MkdirTemp makes it 0700; the postgres user must get through it.
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, fmt.Errorf("devstack: %w", err)
		}
	}

	var wg sync.WaitGroup
	var pgErr, meiliErr error
	if !o.SkipPostgres {
		wg.Go(func() { s.pg, pgErr = s.startPostgres(ctx, o.PGPort) })
	}
	if !o.SkipMeili {
		wg.Go(func() { s.meili, meiliErr = s.startMeili(ctx, o.MeiliPort) })
	}
	wg.Wait()
	if err := errors.Join(pgErr, meiliErr); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("devstack: start interrupted: %w", err)
	}
	if s.pg != nil {
		s.DatabaseURL = s.pg.url(dbName)
		s.AdminURL = s.pg.url("postgres")
	}
	if s.meili != nil {
		s.MeiliURL = s.meili.url
		s.MeiliKey = s.meili.key
	}
	return s, nil
}

// Dir is the directory that holds this stack's data and logs.
func (s *Stack) Dir() string { return s.dir }

// Env returns the conventional variables for the engines that run:
// DATABASE_URL, MEILI_URL and MEILI_API_KEY.
func (s *Stack) Env() []string {
	var kv []string
	if s.DatabaseURL != "" {
		kv = append(kv, "DATABASE_URL="+s.DatabaseURL)
	}
	if s.MeiliURL != "" {
		kv = append(kv, "MEILI_URL="+s.MeiliURL, "MEILI_API_KEY="+s.MeiliKey)
	}
	return kv
}

// Stop stops both engines (PostgreSQL with a fast shutdown, Meilisearch with
// SIGTERM, then SIGKILL after 10 s) and, for a non-persistent stack, removes
// its directories. It is safe to call more than once.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() {
		var wg sync.WaitGroup
		var pgErr, meiliErr error
		if s.pg != nil && !s.pg.down {
			wg.Go(func() { pgErr = s.pg.stop(s.log) })
		}
		if s.meili != nil {
			wg.Go(func() { meiliErr = s.meili.stop(s.log) })
		}
		wg.Wait()
		errs := []error{pgErr, meiliErr}
		if s.pg != nil {
			// The socket directory lives outside the data dir only when the
			// data path is too long for a Unix socket name.
			if s.pg.ownSockDir {
				errs = append(errs, os.RemoveAll(s.pg.sockDir))
			}
		}
		if !s.persistent {
			for _, d := range s.remove {
				errs = append(errs, os.RemoveAll(d))
			}
		}
		if s.lock != nil {
			errs = append(errs, s.lock.Close())
		}
		s.stopErr = errors.Join(errs...)
	})
	return s.stopErr
}

// lockDir takes an exclusive lock on dir/devstack.lock for the life of the
// process, so that a second `familylinks dev` on the same data fails fast
// instead of stopping the first one's servers as leftovers.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "devstack.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("devstack: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("devstack: another dev stack is already running on %s", dir)
		}
		return nil, fmt.Errorf("devstack: locking %s: %w", dir, err)
	}
	return f, nil
}

// since formats a duration for the log, rounded to the millisecond.
func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }
