package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/notify/smtptest"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/store/storetest"
	"github.com/jackc/pgx/v5"
)

// TestOutboxRetriesRefusedMail follows a notification through the outbox:
// the server refuses it once with a 451, the worker keeps it and tries again
// after the backoff, and it arrives exactly once.
func TestOutboxRetriesRefusedMail(t *testing.T) {
	s := storetest.New(t)
	ts := smtptest.Start(t, smtptest.Options{})
	ts.Refuse("DATA", 451, 1)
	mailer := newTestMailer(t, plainURL(ts.Port), nil)
	const topic = "notify.test"
	ctx := t.Context()

	want := Message{To: "enquiries@redcross.test", Subject: "Nouvelle demande FL-7Q2K", Body: "Référence : FL-7Q2K\n"}
	err := s.Tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return store.Enqueue(ctx, tx, topic, want)
	})
	if err != nil {
		t.Fatal(err)
	}

	const backoff = 50 * time.Millisecond
	w := &store.Worker{
		Store: s,
		Handlers: map[string]store.OutboxHandler{
			topic: func(ctx context.Context, m store.OutboxMessage) error {
				var msg Message
				if err := json.Unmarshal(m.Payload, &msg); err != nil {
					return err
				}
				return mailer.Send(ctx, msg)
			},
		},
		Log:     slog.New(slog.NewTextHandler(t.Output(), nil)),
		Backoff: func(int) time.Duration { return backoff },
	}

	if n, err := w.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("first RunOnce = %d, %v; want 1 message claimed", n, err)
	}
	rows, err := s.OutboxRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("outbox has %d rows, want 1", len(rows))
	}
	r := rows[0]
	if r.DoneAt != nil || r.Attempts != 1 || r.LastError == nil || !strings.Contains(*r.LastError, "451") {
		t.Fatalf("after the refusal: done %v, attempts %d, last error %v; want pending, 1 attempt, an error saying 451", r.DoneAt, r.Attempts, deref(r.LastError))
	}
	if n := len(ts.Messages()); n != 0 {
		t.Fatalf("server kept %d messages after refusing", n)
	}

	// The row is due once the backoff has passed; poll rather than trust
	// one sleep, since PostgreSQL's clock decides.
	time.Sleep(backoff)
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := w.RunOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the refused message was never retried")
		}
		time.Sleep(10 * time.Millisecond)
	}

	rows, err = s.OutboxRows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := rows[0]; r.DoneAt == nil || r.Attempts != 2 || r.LastError != nil {
		t.Errorf("after the retry: done %v, attempts %d, last error %v; want done after 2 attempts, no error", r.DoneAt, r.Attempts, deref(r.LastError))
	}
	got := ts.Messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want exactly 1", len(got))
	}
	if len(got[0].To) != 1 || got[0].To[0] != want.To {
		t.Errorf("delivered to %q, want %s", got[0].To, want.To)
	}
	parsed, err := mail.ReadMessage(strings.NewReader(string(got[0].Data)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(parsed.Header.Get("Subject"), "FL-7Q2K") {
		t.Errorf("delivered Subject %q, want the enqueued one", parsed.Header.Get("Subject"))
	}

	// Nothing is left to do.
	if n, err := w.RunOnce(ctx); err != nil || n != 0 {
		t.Errorf("third RunOnce = %d, %v; want nothing claimed", n, err)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
