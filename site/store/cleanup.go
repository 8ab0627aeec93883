package store

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Cleanup deletes what the site keeps only for a while: rate-limit
// counters, expired sessions, handled outbox messages, the client
// addresses in the audit log and its entries past their keep, invitations
// long over; it also queues the reminders for Society
// cards nobody has confirmed for a year. Every replica runs one beside its outbox
// worker; the deletes are idempotent and skip rows another replica holds,
// so several replicas cleaning at once is harmless.
type Cleanup struct {
	Store *Store
	Log   *slog.Logger
	// Every is the pause between rounds (default 10 minutes, plus up to 20%
	// jitter so replicas drift apart).
	Every time.Duration
	// HitWindow is the longest rate-limit window in use; a counter whose
	// window started longer ago than that is deleted (default 1 hour).
	HitWindow time.Duration
	// OutboxKeep is how long a handled outbox message is kept, for
	// inspection (default 7 days).
	OutboxKeep time.Duration
	// AuditAddressKeep is how long the audit log keeps client addresses
	// (default DefaultAuditAddressKeep).
	AuditAddressKeep time.Duration
	// AuditKeep is how long audit entries are kept (default and minimum
	// MinAuditKeep: the database refuses to delete a younger entry).
	AuditKeep time.Duration
}

// DefaultAuditAddressKeep is how long the audit log keeps the client
// address of a sign-in or a back-office action by default: 90 days.
const DefaultAuditAddressKeep = 90 * 24 * time.Hour

// CleanupResult counts what one round removed.
type CleanupResult struct {
	Hits, Sessions, Outbox, AuditAddresses int64
	// CardReminders counts the reminders queued for unconfirmed cards.
	CardReminders int64
	// AuditEntries counts the audit entries deleted past AuditKeep.
	AuditEntries int64
	// Invitations counts the invitations deleted InvitationKeep after
	// they were used, withdrawn or expired.
	Invitations int64
}

func (c *Cleanup) defaults() {
	if c.Every <= 0 {
		c.Every = 10 * time.Minute
	}
	if c.HitWindow <= 0 {
		c.HitWindow = time.Hour
	}
	if c.OutboxKeep <= 0 {
		c.OutboxKeep = 7 * 24 * time.Hour
	}
	if c.AuditAddressKeep <= 0 {
		c.AuditAddressKeep = DefaultAuditAddressKeep
	}
	c.AuditKeep = max(c.AuditKeep, MinAuditKeep)
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// RunOnce runs one round. Each cleanup runs even when an earlier one
// failed; the first error is returned.
func (c *Cleanup) RunOnce(ctx context.Context) (CleanupResult, error) {
	c.defaults()
	var r CleanupResult
	var first error
	keep := func(n int64, err error) int64 {
		if err != nil && first == nil {
			first = err
		}
		return n
	}
	r.Hits = keep(c.Store.DeleteStaleHits(ctx, c.HitWindow))
	r.Sessions = keep(c.Store.DeleteExpiredSessions(ctx))
	r.Outbox = keep(c.Store.DeleteFinishedOutbox(ctx, c.OutboxKeep))
	r.AuditAddresses = keep(c.Store.ForgetAuditAddresses(ctx, c.AuditAddressKeep))
	r.CardReminders = keep(c.Store.RemindStaleCards(ctx))
	r.AuditEntries = keep(c.Store.DeleteOldAudit(ctx, c.AuditKeep))
	r.Invitations = keep(c.Store.DeleteOldInvitations(ctx))
	return r, first
}

// Run runs a round at once, then one every c.Every, until ctx ends.
func (c *Cleanup) Run(ctx context.Context) {
	c.defaults()
	for {
		r, err := c.RunOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			c.Log.Warn("cleanup failed", "err", err)
		case err == nil:
			c.Log.Debug("cleanup", "rate_limits", r.Hits, "sessions", r.Sessions, "outbox", r.Outbox, "audit_addresses", r.AuditAddresses, "card_reminders", r.CardReminders, "audit_entries", r.AuditEntries)
		}
		pause := c.Every + time.Duration(rand.Int64N(int64(c.Every)/5+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}
