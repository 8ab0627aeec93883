package sitetest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/notify"
)

// Mailbox is a notify.Mailer that keeps what the site sends.
type Mailbox struct {
	mu   sync.Mutex
	sent []notify.Message
}

// Send keeps m.
func (b *Mailbox) Send(_ context.Context, m notify.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, m)
	return nil
}

// All returns the messages kept so far, in the order they were sent.
func (b *Mailbox) All() []notify.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.sent)
}

// Sent returns the messages kept so far, by address (the last one to each).
func (b *Mailbox) Sent() map[string]notify.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]notify.Message{}
	for _, m := range b.sent {
		out[m.To] = m
	}
	return out
}

// Wait waits up to 10 s for a message to an address.
func (b *Mailbox) Wait(t testing.TB, to string) notify.Message {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m, ok := b.Sent()[to]; ok {
			return m
		}
	}
	t.Fatalf("no e-mail to %s within 10 s", to)
	return notify.Message{}
}
