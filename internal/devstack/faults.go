package devstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Faults: stopping and starting one engine of a running stack, for fault
// tests (make chaos). The data stays; the engine comes back on the same
// port with the same data and key. None of these may run concurrently with
// each other or with Stop.

// StopMeili stops Meilisearch, keeping its data: with SIGKILL if kill, else
// with SIGTERM (and SIGKILL after 10 s, as Stop does).
func (s *Stack) StopMeili(kill bool) error {
	m := s.meili
	if m == nil {
		return errors.New("devstack: Meilisearch is not part of this stack")
	}
	if !kill {
		return m.stop(s.log)
	}
	select {
	case <-m.done:
		return nil
	default:
	}
	if err := m.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("devstack: killing Meilisearch: %w", err)
	}
	select {
	case <-m.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("devstack: Meilisearch (pid %d) would not exit after SIGKILL", m.cmd.Process.Pid)
	}
}

// StartMeili starts Meilisearch again after StopMeili, on the same address,
// data directory and master key, and returns once it reports healthy.
func (s *Stack) StartMeili(ctx context.Context) error {
	m := s.meili
	if m == nil {
		return errors.New("devstack: Meilisearch is not part of this stack")
	}
	select {
	case <-m.done:
	default:
		return errors.New("devstack: Meilisearch is still running")
	}
	if err := m.launch(); err != nil {
		return err
	}
	if err := m.waitHealthy(ctx); err != nil {
		m.stop(s.log)
		return err
	}
	return nil
}

// MeiliPID is the process id of the running Meilisearch, or 0.
func (s *Stack) MeiliPID() int {
	if s.meili == nil || s.meili.cmd == nil {
		return 0
	}
	select {
	case <-s.meili.done:
		return 0
	default:
		return s.meili.cmd.Process.Pid
	}
}

// StopPostgres stops PostgreSQL with pg_ctl's shutdown mode ("smart",
// "fast" or "immediate"), keeping its data. Stop skips a stopped server.
func (s *Stack) StopPostgres(mode string) error {
	p := s.pg
	if p == nil {
		return errors.New("devstack: PostgreSQL is not part of this stack")
	}
	switch mode {
	case "smart", "fast", "immediate":
	default:
		return fmt.Errorf("devstack: unknown shutdown mode %q", mode)
	}
	if _, err := run(p.command(p.bins.pgCtl, "stop", "-m", mode, "-w", "-t", "30", "-D", p.data)); err != nil {
		return fmt.Errorf("devstack: stopping PostgreSQL: %w", err)
	}
	p.down = true
	return nil
}

// StartPostgres starts PostgreSQL again after StopPostgres, on the same
// port and data, and returns once it accepts connections.
func (s *Stack) StartPostgres() error {
	p := s.pg
	if p == nil {
		return errors.New("devstack: PostgreSQL is not part of this stack")
	}
	if err := p.start(!s.persistent); err != nil {
		return err
	}
	p.down = false
	return nil
}

// PostgresLog and MeiliLog are the engines' log files (empty if the
// engine is not part of the stack); a throw-away stack deletes them on Stop.
func (s *Stack) PostgresLog() string {
	if s.pg == nil {
		return ""
	}
	return s.pg.logFile
}

// MeiliLog: see PostgresLog.
func (s *Stack) MeiliLog() string {
	if s.meili == nil {
		return ""
	}
	return s.meili.logFile
}
