// Package notify sends the site's plain-text e-mail notifications through an
// SMTP server, or only logs them when no server is configured.
//
// The server is given as a URL, in one of two forms:
//
//	smtp://[user:pass@]host[:port]?from=ADDRESS[&starttls=required|opportunistic|off]
//	smtps://[user:pass@]host[:port]?from=ADDRESS
//
// smtp:// connects in clear text to port 587 unless told otherwise, then
// upgrades with STARTTLS. starttls=required (the default) refuses to send
// when the server does not offer it; opportunistic upgrades only when it is
// offered; off never upgrades and is accepted only for a loopback host
// (127.0.0.1, localhost or ::1), such as a local relay or a test server.
// smtps:// speaks TLS from the first byte, on port 465 unless told otherwise.
//
// from is required: it is the envelope sender and the From header, and its
// domain names the Message-ID. It may carry a display name, URL-encoded:
// from=Family%20Links%20%3Cnoreply%40example.org%3E.
//
// With user:pass (URL-encoded), the mailer authenticates with AUTH PLAIN.
// Credentials never travel in clear text: they need smtps, starttls=required
// or a loopback host.
//
// Examples:
//
//	smtp://mailer:s3cret@smtp.example.org?from=noreply@example.org
//	smtps://mailer:s3cret@smtp.example.org:465?from=noreply@example.org
//	smtp://127.0.0.1:1025?from=noreply@familylinks.test&starttls=off
//
// An empty URL gives a LogMailer, for local development.
package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// Message is a plain-text e-mail.
type Message struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Mailer sends a message or returns an error (the caller retries through its
// outbox).
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// New returns an SMTP mailer for smtpURL, or a LogMailer when smtpURL is "".
// The URL forms are described in the package comment. A nil log means
// slog.Default().
func New(smtpURL string, log *slog.Logger) (Mailer, error) {
	if log == nil {
		log = slog.Default()
	}
	if smtpURL == "" {
		return &LogMailer{Log: log}, nil
	}
	m, err := newSMTP(smtpURL, log)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// ErrInvalidMessage is wrapped by the errors of a message that can never be
// sent as it is: a recipient that is not an address, a line break in a
// header, text that is not UTF-8. Retrying such a message is pointless.
var ErrInvalidMessage = errors.New("notify: invalid message")

// LogMailer logs each message instead of sending it: the choice for local
// development. The body carries no personal data by design, so it is logged
// in full.
type LogMailer struct{ Log *slog.Logger }

// Send checks m as the SMTP mailer would, so that a bad message fails in
// development too, then logs it at info level.
func (l *LogMailer) Send(ctx context.Context, m Message) error {
	to, err := validate(m)
	if err != nil {
		return err
	}
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "notify: mail not sent (no SMTP server configured)",
		"to", to.Address, "subject", m.Subject, "body_bytes", len(m.Body), "body", m.Body)
	return nil
}

// validate refuses what cannot be put in a message, and returns the parsed
// recipient.
func validate(m Message) (*mail.Address, error) {
	// Checked before parsing: a line break in a header is an injection
	// attempt, whatever else the value holds.
	if strings.ContainsAny(m.To, "\r\n") {
		return nil, fmt.Errorf("%w: To contains a line break", ErrInvalidMessage)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, fmt.Errorf("%w: Subject contains a line break", ErrInvalidMessage)
	}
	if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Body) {
		return nil, fmt.Errorf("%w: Subject or Body is not valid UTF-8", ErrInvalidMessage)
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: To %q: %v", ErrInvalidMessage, m.To, err)
	}
	// Without SMTPUTF8 an address must be ASCII; the mailboxes we write to
	// all are.
	if !isASCII(to.Address) {
		return nil, fmt.Errorf("%w: To %q is not an ASCII address", ErrInvalidMessage, m.To)
	}
	return to, nil
}

// compose builds the RFC 5322 message, with CRLF line endings and a
// quoted-printable body, and returns it with its recipient and Message-ID.
func compose(from *mail.Address, m Message, now time.Time) (raw []byte, to *mail.Address, msgID string, err error) {
	to, err = validate(m)
	if err != nil {
		return nil, nil, "", err
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	msgID = "<" + hex.EncodeToString(id[:]) + "@" + domain + ">"

	var b strings.Builder
	header := func(name, value string) { b.WriteString(fold(name + ": " + value)) }
	header("Date", now.Format(time.RFC1123Z))
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Message-ID", msgID)
	// RFC 3834: tells vacation responders not to answer a robot.
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")

	// The writer turns every line break (LF, CRLF or CR) into CRLF and keeps
	// lines under 76 characters.
	qp := quotedprintable.NewWriter(&b)
	if _, err := io.WriteString(qp, m.Body); err != nil {
		return nil, nil, "", fmt.Errorf("notify: encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, nil, "", fmt.Errorf("notify: encode body: %w", err)
	}
	if !strings.HasSuffix(b.String(), "\r\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String()), to, msgID, nil
}

// fold breaks a header field at spaces so that its lines stay within 78
// characters where it can, and ends it with CRLF. Spaces between encoded
// words are not part of the text, so folding there changes nothing.
func fold(field string) string {
	const limit = 78
	words := strings.Split(field, " ")
	var b strings.Builder
	line := words[0] // the field name and its colon: the value starts on this line
	for i, w := range words[1:] {
		if i > 0 && w != "" && len(line)+1+len(w) > limit {
			b.WriteString(line)
			b.WriteString("\r\n")
			line = ""
		}
		line += " " + w
	}
	b.WriteString(line)
	b.WriteString("\r\n")
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// ReplyError is an SMTP server's refusal: a 4xx or 5xx reply.
type ReplyError struct {
	// Command is what the server refused: "greeting", "EHLO", "STARTTLS",
	// "AUTH", "MAIL FROM", "RCPT TO" or "DATA".
	Command string
	Code    int
	Msg     string
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("smtp server refused %s: %d %s", e.Command, e.Code, e.Msg)
}

// Temporary reports whether err may go away by itself, so that sending the
// same message later can succeed: a 4xx reply, a network error, or an attempt
// cut short by its context. A 5xx reply, an invalid message or a bad
// configuration is permanent.
func Temporary(err error) bool {
	if err == nil {
		return false
	}
	if re, ok := errors.AsType[*ReplyError](err); ok {
		return re.Code >= 400 && re.Code < 500
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	// A server that hangs up mid-conversation gives EOF rather than a
	// net.Error.
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	_, ok := errors.AsType[net.Error](err)
	return ok
}
