package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/notify/smtptest"
)

const testFrom = "noreply@familylinks.test"

// newTestMailer returns the SMTP mailer for rawURL, trusting the test
// certificate when there is one.
func newTestMailer(t *testing.T, rawURL string, trust *tls.Config) *SMTPMailer {
	t.Helper()
	mm, err := New(rawURL, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatalf("New(%q): %v", rawURL, err)
	}
	m, ok := mm.(*SMTPMailer)
	if !ok {
		t.Fatalf("New(%q) = %T, want *SMTPMailer", rawURL, mm)
	}
	if trust != nil {
		m.tlsConfig.RootCAs = trust.RootCAs
	}
	return m
}

func plainURL(port string) string {
	return "smtp://127.0.0.1:" + port + "?from=" + testFrom + "&starttls=off"
}

// crlf is what a body becomes on the wire: every line break a CRLF, and a
// final one unless the body is empty.
func crlf(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.ReplaceAll(s, "\n", "\r\n")
	if s != "" && !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return s
}

func TestSendDelivers(t *testing.T) {
	tests := []struct {
		name     string
		msg      Message
		wantTo   string // envelope recipient
		wantName string // display name in the To header
	}{
		{
			name: "ascii",
			msg: Message{
				To:      "enquiries@redcross.test",
				Subject: "New enquiry FL-7Q2K",
				Body:    "A new enquiry is waiting.\nReference: FL-7Q2K\n",
			},
			wantTo: "enquiries@redcross.test",
		},
		{
			name: "utf-8 subject, body and display name",
			msg: Message{
				To:      `"Croix-Rouge française" <accueil@croix-rouge.test>`,
				Subject: "Nouvelle demande — référence FL-7Q2K",
				Body: "Référence : FL-7Q2K\r\n" +
					"À traiter : https://familylinks.test/staff/enquiries/FL-7Q2K\n" +
					".a line that starts with a dot\n" +
					"From the start of a line\n" +
					"trailing spaces   \n" +
					"an = sign and a very long line " + strings.Repeat("é", 80) + "\n" +
					"Україна, العربية, 日本語\n" +
					"no final line break",
			},
			wantTo:   "accueil@croix-rouge.test",
			wantName: "Croix-Rouge française",
		},
		{
			name: "long subjects are folded",
			msg: Message{
				To:      "enquiries@redcross.test",
				Subject: "Нове звернення до Товариства Червоного Хреста України — довідковий номер FL-7Q2K — будь ласка, опрацюйте",
				Body:    "x",
			},
			wantTo: "enquiries@redcross.test",
		},
		{
			name: "long ascii subject",
			msg: Message{
				To:      "enquiries@redcross.test",
				Subject: strings.Repeat("New enquiry waiting in the back office ", 5) + "FL-7Q2K",
				Body:    "",
			},
			wantTo: "enquiries@redcross.test",
		},
	}
	msgIDRe := regexp.MustCompile(`^<[0-9a-f]{32}@familylinks\.test>$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := smtptest.Start(t, smtptest.Options{})
			m := newTestMailer(t, plainURL(ts.Port), nil)
			before := time.Now()
			if err := m.Send(t.Context(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := ts.Messages()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			r := got[0]
			if r.From != testFrom || len(r.To) != 1 || r.To[0] != tt.wantTo {
				t.Errorf("envelope = from %q to %q, want from %q to [%s]", r.From, r.To, testFrom, tt.wantTo)
			}

			data := string(r.Data)
			if strings.Contains(strings.ReplaceAll(data, "\r\n", ""), "\n") || strings.Contains(strings.ReplaceAll(data, "\r\n", ""), "\r") {
				t.Errorf("message has a bare CR or LF:\n%q", data)
			}
			if !strings.HasSuffix(data, "\r\n") {
				t.Errorf("message does not end with CRLF")
			}
			if !isASCII(data) {
				t.Errorf("message is not 7-bit:\n%s", data)
			}
			head, _, _ := strings.Cut(data, "\r\n\r\n")
			for line := range strings.SplitSeq(data, "\r\n") {
				if len(line) > 998 {
					t.Errorf("line of %d characters, RFC 5322 allows 998", len(line))
				}
			}
			for line := range strings.SplitSeq(head, "\r\n") {
				// Past 78 characters a header line should be folded,
				// unless it holds one word that cannot be broken.
				value := line
				if _, v, ok := strings.Cut(line, ": "); ok {
					value = v
				}
				if len(line) > 78 && strings.Contains(strings.TrimSpace(value), " ") {
					t.Errorf("header line of %d characters not folded: %q", len(line), line)
				}
			}

			parsed, err := mail.ReadMessage(strings.NewReader(data))
			if err != nil {
				t.Fatalf("not an RFC 5322 message: %v\n%s", err, data)
			}
			h := parsed.Header
			if from, err := mail.ParseAddress(h.Get("From")); err != nil || from.Address != testFrom {
				t.Errorf("From = %q (%v), want %s", h.Get("From"), err, testFrom)
			}
			to, err := mail.ParseAddress(h.Get("To"))
			if err != nil || to.Address != tt.wantTo || to.Name != tt.wantName {
				t.Errorf("To = %q, parsed %+v (%v), want %q <%s>", h.Get("To"), to, err, tt.wantName, tt.wantTo)
			}
			subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
			if err != nil || subject != tt.msg.Subject {
				t.Errorf("Subject decodes to %q (%v), want %q\nraw: %q", subject, err, tt.msg.Subject, h.Get("Subject"))
			}
			if date, err := h.Date(); err != nil || date.Before(before.Add(-time.Second)) || date.After(time.Now().Add(time.Second)) {
				t.Errorf("Date = %q (%v), want about now", h.Get("Date"), err)
			}
			if id := h.Get("Message-ID"); !msgIDRe.MatchString(id) {
				t.Errorf("Message-ID = %q, want %s", id, msgIDRe)
			}
			for k, want := range map[string]string{
				"MIME-Version":              "1.0",
				"Content-Type":              "text/plain; charset=utf-8",
				"Content-Transfer-Encoding": "quoted-printable",
			} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if n := len(h["Bcc"]) + len(h["Cc"]); n != 0 {
				t.Errorf("message has %d Cc/Bcc headers", n)
			}

			body, err := io.ReadAll(quotedprintable.NewReader(parsed.Body))
			if err != nil {
				t.Fatalf("body is not quoted-printable: %v", err)
			}
			if want := crlf(tt.msg.Body); string(body) != want {
				t.Errorf("body decodes to\n%q\nwant\n%q", body, want)
			}
		})
	}
}

func TestSendMessageIDsDiffer(t *testing.T) {
	ts := smtptest.Start(t, smtptest.Options{})
	m := newTestMailer(t, plainURL(ts.Port), nil)
	msg := Message{To: "enquiries@redcross.test", Subject: "s", Body: "b"}
	for range 2 {
		if err := m.Send(t.Context(), msg); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for _, r := range ts.Messages() {
		p, err := mail.ReadMessage(bytes.NewReader(r.Data))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.Header.Get("Message-ID"))
	}
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Errorf("Message-IDs = %q, want two different ones", ids)
	}
}

func TestSendRefusesInvalidMessages(t *testing.T) {
	ts := smtptest.Start(t, smtptest.Options{})
	m := newTestMailer(t, plainURL(ts.Port), nil)
	tests := []struct {
		name string
		msg  Message
	}{
		{"Bcc injected in To", Message{To: "a@b.test\r\nBcc: x@y.test", Subject: "s", Body: "b"}},
		{"LF in To", Message{To: "a@b.test\nBcc: x@y.test", Subject: "s", Body: "b"}},
		{"LF in Subject", Message{To: "a@b.test", Subject: "hello\nBcc: x@y.test", Body: "b"}},
		{"CR in Subject", Message{To: "a@b.test", Subject: "hello\rBcc: x@y.test", Body: "b"}},
		{"To is not an address", Message{To: "the Red Cross", Subject: "s", Body: "b"}},
		{"To is empty", Message{To: "", Subject: "s", Body: "b"}},
		{"two recipients", Message{To: "a@b.test, c@d.test", Subject: "s", Body: "b"}},
		{"non-ASCII address", Message{To: "accueil@croix-rougé.test", Subject: "s", Body: "b"}},
		{"body not UTF-8", Message{To: "a@b.test", Subject: "s", Body: "\xff\xfe"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Send(t.Context(), tt.msg)
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Send = %v, want ErrInvalidMessage", err)
			}
			if Temporary(err) {
				t.Errorf("Temporary(%v) = true, want false", err)
			}
		})
	}
	if n := ts.Accepted.Load(); n != 0 {
		t.Errorf("server was contacted %d times, want never", n)
	}
}

func TestSendRefused(t *testing.T) {
	tests := []struct {
		at        string
		code      int
		command   string
		temporary bool
	}{
		{"RCPT", 451, "RCPT TO", true},
		{"DATA", 451, "DATA", true},
		{"RCPT", 550, "RCPT TO", false},
		{"DATA", 554, "DATA", false},
	}
	for _, tt := range tests {
		t.Run(tt.at+" "+strconv.Itoa(tt.code), func(t *testing.T) {
			ts := smtptest.Start(t, smtptest.Options{})
			m := newTestMailer(t, plainURL(ts.Port), nil)
			ts.Refuse(tt.at, tt.code, 1)
			msg := Message{To: "enquiries@redcross.test", Subject: "s", Body: "b"}

			err := m.Send(t.Context(), msg)
			if err == nil {
				t.Fatal("Send succeeded, want a refusal")
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tt.code)) {
				t.Errorf("error %q does not say %d", err, tt.code)
			}
			re, ok := errors.AsType[*ReplyError](err)
			if !ok || re.Code != tt.code || re.Command != tt.command {
				t.Errorf("error %v: want a *ReplyError %d at %s", err, tt.code, tt.command)
			}
			if got := Temporary(err); got != tt.temporary {
				t.Errorf("Temporary(%v) = %v, want %v", err, got, tt.temporary)
			}
			if n := len(ts.Messages()); n != 0 {
				t.Fatalf("server kept %d messages after refusing", n)
			}

			// Only the next message was to be refused.
			if err := m.Send(t.Context(), msg); err != nil {
				t.Fatalf("second Send: %v", err)
			}
			if n := len(ts.Messages()); n != 1 {
				t.Errorf("server kept %d messages, want 1", n)
			}
		})
	}
}

func TestSendHonoursContext(t *testing.T) {
	msg := Message{To: "enquiries@redcross.test", Subject: "s", Body: "b"}
	const limit = 300 * time.Millisecond
	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		timeout time.Duration // the mailer's default, when ctx has no deadline
		want    error
	}{
		{
			name: "deadline",
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), limit)
				t.Cleanup(cancel)
				return ctx
			},
			timeout: 5 * time.Second,
			want:    context.DeadlineExceeded,
		},
		{
			name: "cancelled without a deadline",
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				time.AfterFunc(limit, cancel)
				t.Cleanup(cancel)
				return ctx
			},
			timeout: 5 * time.Second,
			want:    context.Canceled,
		},
		{
			name:    "default timeout without a deadline",
			ctx:     func(t *testing.T) context.Context { return t.Context() },
			timeout: limit,
			want:    context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newTestMailer(t, plainURL(smtptest.Silent(t)), nil)
			m.timeout = tt.timeout
			start := time.Now()
			err := m.Send(tt.ctx(t), msg)
			elapsed := time.Since(start)
			if !errors.Is(err, tt.want) {
				t.Errorf("Send = %v, want %v", err, tt.want)
			}
			if !Temporary(err) {
				t.Errorf("Temporary(%v) = false, want true", err)
			}
			// Generous slack for -race on a busy machine; without the
			// deadline Send would wait forever.
			if elapsed < limit-10*time.Millisecond || elapsed > limit+2*time.Second {
				t.Errorf("Send returned after %v, want about %v", elapsed, limit)
			}
		})
	}

	t.Run("already ended", func(t *testing.T) {
		ts := smtptest.Start(t, smtptest.Options{})
		m := newTestMailer(t, plainURL(ts.Port), nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := m.Send(ctx, msg); !errors.Is(err, context.Canceled) {
			t.Errorf("Send = %v, want context.Canceled", err)
		}
		if n := ts.Accepted.Load(); n != 0 {
			t.Errorf("server was contacted %d times, want never", n)
		}
	})
}

func TestSendTLSAndAuth(t *testing.T) {
	serverTLS, trust := smtptest.TLS(t)
	const creds = "mailer:s3cret%3A%2F%40@" // password "s3cret:/@"
	tests := []struct {
		name     string
		server   smtptest.Options
		url      string // %s is the port
		trust    bool
		wantErr  string // empty: delivered
		wantTLS  bool
		wantUser string
	}{
		{
			name:    "starttls required",
			server:  smtptest.Options{TLS: serverTLS},
			url:     "smtp://127.0.0.1:%s?from=" + testFrom,
			trust:   true,
			wantTLS: true,
		},
		{
			name:     "starttls required with AUTH PLAIN",
			server:   smtptest.Options{TLS: serverTLS},
			url:      "smtp://" + creds + "127.0.0.1:%s?from=" + testFrom,
			trust:    true,
			wantTLS:  true,
			wantUser: "mailer",
		},
		{
			name:    "starttls required, server does not offer it",
			server:  smtptest.Options{},
			url:     "smtp://127.0.0.1:%s?from=" + testFrom,
			wantErr: "STARTTLS",
		},
		{
			name:    "starttls required, untrusted certificate",
			server:  smtptest.Options{TLS: serverTLS},
			url:     "smtp://127.0.0.1:%s?from=" + testFrom,
			wantErr: "certificate",
		},
		{
			name:    "opportunistic, server offers it",
			server:  smtptest.Options{TLS: serverTLS},
			url:     "smtp://127.0.0.1:%s?from=" + testFrom + "&starttls=opportunistic",
			trust:   true,
			wantTLS: true,
		},
		{
			name:   "opportunistic, server does not offer it",
			server: smtptest.Options{},
			url:    "smtp://127.0.0.1:%s?from=" + testFrom + "&starttls=opportunistic",
		},
		{
			name:     "smtps with AUTH PLAIN",
			server:   smtptest.Options{TLS: serverTLS, Implicit: true},
			url:      "smtps://" + creds + "127.0.0.1:%s?from=" + testFrom,
			trust:    true,
			wantTLS:  true,
			wantUser: "mailer",
		},
		{
			name:    "smtps, untrusted certificate",
			server:  smtptest.Options{TLS: serverTLS, Implicit: true},
			url:     "smtps://127.0.0.1:%s?from=" + testFrom,
			wantErr: "certificate",
		},
		{
			name:     "AUTH PLAIN in clear text to loopback",
			server:   smtptest.Options{},
			url:      "smtp://" + creds + "127.0.0.1:%s?from=" + testFrom + "&starttls=off",
			wantUser: "mailer",
		},
		{
			name:    "wrong password",
			server:  smtptest.Options{},
			url:     "smtp://mailer:wrong@127.0.0.1:%s?from=" + testFrom + "&starttls=off",
			wantErr: "535",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := smtptest.Start(t, tt.server)
			var tc *tls.Config
			if tt.trust {
				tc = trust
			}
			m := newTestMailer(t, strings.Replace(tt.url, "%s", ts.Port, 1), tc)
			err := m.Send(t.Context(), Message{To: "enquiries@redcross.test", Subject: "s", Body: "b"})
			got := ts.Messages()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Send = %v, want an error about %s", err, tt.wantErr)
				}
				if Temporary(err) {
					t.Errorf("Temporary(%v) = true, want false", err)
				}
				if len(got) != 0 {
					t.Errorf("server received %d messages, want none", len(got))
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			if got[0].TLS != tt.wantTLS || got[0].User != tt.wantUser {
				t.Errorf("received over TLS=%v as %q, want TLS=%v as %q", got[0].TLS, got[0].User, tt.wantTLS, tt.wantUser)
			}
			if tt.wantUser != "" && got[0].Pass != "s3cret:/@" {
				t.Errorf("password arrived as %q", got[0].Pass)
			}
		})
	}
}
