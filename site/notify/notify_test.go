package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/textproto"
	"os"
	"strings"
	"syscall"
	"testing"
)

func TestNew(t *testing.T) {
	const from = "?from=noreply@example.org"
	ok := []struct {
		url          string
		addr         string
		implicitTLS  bool
		startTLS     string
		wantFromName string
	}{
		{"smtp://mail.example.org" + from, "mail.example.org:587", false, "required", ""},
		{"smtp://mail.example.org:2525" + from + "&starttls=opportunistic", "mail.example.org:2525", false, "opportunistic", ""},
		{"smtp://mailer:p%40ss@mail.example.org/" + from + "&starttls=required", "mail.example.org:587", false, "required", ""},
		{"smtps://mail.example.org" + from, "mail.example.org:465", true, "", ""},
		{"smtps://mailer:secret@mail.example.org:4650" + from, "mail.example.org:4650", true, "", ""},
		{"smtp://127.0.0.1:1025" + from + "&starttls=off", "127.0.0.1:1025", false, "off", ""},
		{"smtp://localhost" + from + "&starttls=off", "localhost:587", false, "off", ""},
		{"smtp://[::1]:25" + from + "&starttls=off", "[::1]:25", false, "off", ""},
		{"smtp://mailer:secret@127.0.0.1:1025" + from + "&starttls=off", "127.0.0.1:1025", false, "off", ""},
		{"smtp://mailer:secret@localhost:1025" + from + "&starttls=opportunistic", "localhost:1025", false, "opportunistic", ""},
		{"smtp://mail.example.org?from=Family%20Links%20%3Cnoreply%40example.org%3E", "mail.example.org:587", false, "required", "Family Links"},
	}
	for _, tt := range ok {
		t.Run(tt.url, func(t *testing.T) {
			mm, err := New(tt.url, nil)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			m, isSMTP := mm.(*SMTPMailer)
			if !isSMTP {
				t.Fatalf("New = %T, want *SMTPMailer", mm)
			}
			if m.addr != tt.addr || m.implicitTLS != tt.implicitTLS || m.startTLS != tt.startTLS {
				t.Errorf("got addr %s, implicit TLS %v, starttls %q; want %s, %v, %q", m.addr, m.implicitTLS, m.startTLS, tt.addr, tt.implicitTLS, tt.startTLS)
			}
			if m.from.Address != "noreply@example.org" || m.from.Name != tt.wantFromName {
				t.Errorf("from = %+v", m.from)
			}
			if s := m.String(); strings.Contains(s, "secret") || strings.Contains(s, "p%40ss") {
				t.Errorf("String() = %q shows the password", s)
			}
			if s := fmt.Sprint(m); strings.Contains(s, "secret") {
				t.Errorf("fmt.Sprint(mailer) = %q shows the password", s)
			}
		})
	}

	t.Run("empty URL gives a LogMailer", func(t *testing.T) {
		m, err := New("", nil)
		if err != nil {
			t.Fatal(err)
		}
		if lm, isLog := m.(*LogMailer); !isLog || lm.Log == nil {
			t.Errorf("New(\"\") = %#v, want a *LogMailer with a logger", m)
		}
	})

	bad := []struct {
		url  string
		want string // in the error
	}{
		{"http://mail.example.org" + from, "scheme"},
		{"mail.example.org" + from, "scheme"},
		{"smtp://" + from, "no host"},
		{"smtp:mail.example.org" + from, "want scheme://"},
		{"smtp://mail.example.org/path" + from, "want scheme://"},
		{"smtp://mail.example.org", "from is required"},
		{"smtp://mail.example.org?from=", "from is required"},
		{"smtp://mail.example.org?from=nobody", "from"},
		{"smtp://mail.example.org?from=a%40b.test%0D%0ABcc:x%40y.test", "line break"},
		{"smtp://mail.example.org" + from + "&from=other@example.org", "2 times"},
		{"smtp://mail.example.org" + from + "&frm=x", "unknown parameter"},
		{"smtp://mail.example.org:0" + from, "port"},
		{"smtp://mail.example.org:70000" + from, "port"},
		{"smtp://mail.example.org" + from + "&starttls=off", "loopback"},
		{"smtp://10.0.0.1" + from + "&starttls=off", "loopback"},
		{"smtp://127.0.0.2" + from + "&starttls=off", "loopback"},
		{"smtp://mail.example.org" + from + "&starttls=yes", "starttls"},
		{"smtps://mail.example.org" + from + "&starttls=off", "unknown parameter"},
		{"smtp://mailer:secret@mail.example.org" + from + "&starttls=opportunistic", "need TLS"},
		{"smtp://mailer@mail.example.org" + from, "user and password"},
		{"smtp://:secret@mail.example.org" + from, "user and password"},
	}
	for _, tt := range bad {
		t.Run(tt.url, func(t *testing.T) {
			m, err := New(tt.url, nil)
			if err == nil {
				t.Fatalf("New = %v, want an error about %q", m, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want an error about %q", err, tt.want)
			}
			if m != nil {
				t.Errorf("New returned a mailer (%T) with its error", m)
			}
		})
	}

	t.Run("parse errors hide the password", func(t *testing.T) {
		_, err := New("smtp://mailer:hunter2@mail.example.org:bad"+from, nil)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("New: %v, want an error without the password", err)
		}
	})
}

func TestTemporary(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"421 at greeting", &ReplyError{Command: "greeting", Code: 421}, true},
		{"451 wrapped", fmt.Errorf("notify: send: %w", &ReplyError{Command: "RCPT TO", Code: 451}), true},
		{"452", &ReplyError{Command: "RCPT TO", Code: 452}, true},
		{"550", &ReplyError{Command: "RCPT TO", Code: 550}, false},
		{"554 wrapped", fmt.Errorf("x: %w", &ReplyError{Command: "DATA", Code: 554}), false},
		{"connection refused", fmt.Errorf("x: %w", opErr), true},
		{"connection closed", fmt.Errorf("smtp greeting: %w", io.EOF), true},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"i/o timeout", os.ErrDeadlineExceeded, true},
		{"cancelled", context.Canceled, true},
		{"invalid message", fmt.Errorf("%w: To", ErrInvalidMessage), false},
		{"unrelated", errors.New("server does not offer STARTTLS"), false},
		{"raw textproto error is not converted here", &textproto.Error{Code: 451}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Temporary(tt.err); got != tt.want {
				t.Errorf("Temporary(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestLogMailer(t *testing.T) {
	var buf bytes.Buffer
	m := &LogMailer{Log: slog.New(slog.NewJSONHandler(&buf, nil))}
	msg := Message{To: "enquiries@redcross.test", Subject: "Nouvelle demande FL-7Q2K", Body: "Référence : FL-7Q2K\n"}
	if err := m.Send(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Level, To, Subject, Body string
		BodyBytes                int `json:"body_bytes"`
	}
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	if rec.Level != "INFO" || rec.To != msg.To || rec.Subject != msg.Subject || rec.Body != msg.Body || rec.BodyBytes != len(msg.Body) {
		t.Errorf("logged %+v, want the message at INFO", rec)
	}

	// A message the SMTP mailer would refuse fails in development too.
	buf.Reset()
	err := m.Send(t.Context(), Message{To: "a@b.test\r\nBcc: x@y.test", Subject: "s"})
	if !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("Send = %v, want ErrInvalidMessage", err)
	}
	if buf.Len() != 0 {
		t.Errorf("an invalid message was logged: %s", buf.String())
	}
}
