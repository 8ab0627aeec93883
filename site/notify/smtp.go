package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout bounds a Send whose context has no deadline: dialling,
// the whole SMTP conversation and the transfer of the message.
const DefaultTimeout = 30 * time.Second

// STARTTLS modes of an smtp:// URL.
const (
	startTLSRequired      = "required"
	startTLSOpportunistic = "opportunistic"
	startTLSOff           = "off"
)

// SMTPMailer sends each message over a new connection to an SMTP server. It
// is safe for concurrent use. Make one with New.
type SMTPMailer struct {
	host        string // as in the URL, without brackets; also the TLS server name
	addr        string // host:port
	implicitTLS bool   // smtps://
	startTLS    string // smtp:// only
	user, pass  string
	from        *mail.Address
	helo        string
	timeout     time.Duration
	tlsConfig   *tls.Config // cloned for each connection
	log         *slog.Logger
}

func newSMTP(raw string, log *slog.Logger) (*SMTPMailer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL, password included.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("notify: SMTP URL: %w", err)
	}
	m := &SMTPMailer{log: log, timeout: DefaultTimeout}
	var port string
	switch u.Scheme {
	case "smtp":
		port = "587"
	case "smtps":
		port, m.implicitTLS = "465", true
	default:
		return nil, fmt.Errorf("notify: SMTP URL: scheme %q, want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, errors.New("notify: SMTP URL: want scheme://[user:pass@]host[:port]?from=ADDRESS")
	}
	m.host = u.Hostname()
	if m.host == "" {
		return nil, errors.New("notify: SMTP URL: no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("notify: SMTP URL: bad port %q", p)
		}
		port = p
	}
	m.addr = net.JoinHostPort(m.host, port)

	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("notify: SMTP URL: query: %w", err)
	}
	for k, v := range q {
		if len(v) != 1 {
			return nil, fmt.Errorf("notify: SMTP URL: %s given %d times", k, len(v))
		}
		switch {
		case k == "from":
		case k == "starttls" && !m.implicitTLS:
		default:
			// A misspelt option would otherwise be ignored in silence.
			return nil, fmt.Errorf("notify: SMTP URL: unknown parameter %q for %s://", k, u.Scheme)
		}
	}
	from := q.Get("from")
	if from == "" {
		return nil, errors.New("notify: SMTP URL: from is required")
	}
	if strings.ContainsAny(from, "\r\n") {
		return nil, errors.New("notify: SMTP URL: from contains a line break")
	}
	if m.from, err = mail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("notify: SMTP URL: from %q: %w", from, err)
	}
	if !isASCII(m.from.Address) {
		return nil, fmt.Errorf("notify: SMTP URL: from %q is not an ASCII address", from)
	}

	loopback := isLoopback(m.host)
	if !m.implicitTLS {
		m.startTLS = q.Get("starttls")
		switch m.startTLS {
		case "":
			m.startTLS = startTLSRequired
		case startTLSRequired, startTLSOpportunistic:
		case startTLSOff:
			if !loopback {
				return nil, fmt.Errorf("notify: SMTP URL: starttls=off is only allowed for a loopback host, not %q", m.host)
			}
		default:
			return nil, fmt.Errorf("notify: SMTP URL: starttls=%q, want required, opportunistic or off", m.startTLS)
		}
	}

	if u.User != nil {
		m.user = u.User.Username()
		pass, ok := u.User.Password()
		if m.user == "" || !ok {
			return nil, errors.New("notify: SMTP URL: credentials need both user and password")
		}
		m.pass = pass
		tlsSure := m.implicitTLS || m.startTLS == startTLSRequired
		if !tlsSure && !loopback {
			return nil, fmt.Errorf("notify: SMTP URL: credentials for %q need TLS: use smtps:// or starttls=required", m.host)
		}
	}

	m.helo = "localhost"
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		m.helo = h
	}
	m.tlsConfig = &tls.Config{ServerName: m.host, MinVersion: tls.VersionTLS12}
	return m, nil
}

// isLoopback lists the same names as net/smtp, which refuses AUTH PLAIN
// without TLS to any other host.
func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// String describes the mailer without its password, so that it can be
// logged.
func (m *SMTPMailer) String() string {
	u := url.URL{Scheme: "smtp", Host: m.addr}
	q := url.Values{"from": {m.from.String()}}
	if m.implicitTLS {
		u.Scheme = "smtps"
	} else {
		q.Set("starttls", m.startTLS)
	}
	if m.user != "" {
		u.User = url.User(m.user)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Send delivers m over a new connection. It returns once the server has
// accepted the message, refused it (a *ReplyError), or ctx has ended; without
// a deadline in ctx, the attempt gets DefaultTimeout. A reply lost after the
// message was transmitted reads as a failure, so a retry may deliver it
// twice: SMTP is at-least-once.
func (m *SMTPMailer) Send(ctx context.Context, msg Message) error {
	raw, to, msgID, err := compose(m.from, msg, time.Now())
	if err != nil {
		return err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.timeout)
		defer cancel()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("notify: send to %s: %w", to.Address, err)
	}
	if err := m.deliver(ctx, raw, to.Address); err != nil {
		return fmt.Errorf("notify: send to %s: %w", to.Address, err)
	}
	m.log.InfoContext(ctx, "notify: mail sent", "to", to.Address, "message_id", msgID)
	return nil
}

// deliver runs one SMTP conversation.
func (m *SMTPMailer) deliver(ctx context.Context, raw []byte, rcpt string) (err error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return err
	}
	// Cancellation has no deadline of its own: unblock whatever read or
	// write is under way.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	defer func() {
		// The only deadlines on conn come from ctx, so a timeout means ctx
		// ended (its timer may not have fired yet).
		if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
			cause := ctx.Err()
			if cause == nil {
				cause = context.DeadlineExceeded
			}
			err = fmt.Errorf("%w: %w", cause, err)
		}
	}()

	if m.implicitTLS {
		tc := tls.Client(conn, m.tlsConfig.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		conn = tc // net/smtp sees a *tls.Conn and knows the session is secure
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return replyErr("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(m.helo); err != nil {
		return replyErr("EHLO", err)
	}
	if !m.implicitTLS && m.startTLS != startTLSOff {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(m.tlsConfig.Clone()); err != nil {
				return replyErr("STARTTLS", err)
			}
		} else if m.startTLS == startTLSRequired {
			return fmt.Errorf("server %s does not offer STARTTLS, and starttls=required", m.addr)
		}
	}
	if m.user != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("server %s does not offer AUTH", m.addr)
		}
		// net/smtp's PlainAuth itself refuses a clear-text connection to
		// a host that is not loopback.
		if err := c.Auth(smtp.PlainAuth("", m.user, m.pass, m.host)); err != nil {
			return replyErr("AUTH", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return replyErr("MAIL FROM", err)
	}
	if err := c.Rcpt(rcpt); err != nil {
		return replyErr("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return replyErr("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		return replyErr("DATA", err)
	}
	// Close sends the final dot and reads the verdict on the message.
	if err := w.Close(); err != nil {
		return replyErr("DATA", err)
	}
	// The message is accepted: a failing QUIT must not make the caller send
	// it again.
	_ = c.Quit()
	return nil
}

// replyErr turns a server's refusal into a *ReplyError and leaves other
// errors as they are.
func replyErr(cmd string, err error) error {
	if te, ok := errors.AsType[*textproto.Error](err); ok {
		return &ReplyError{Command: cmd, Code: te.Code, Msg: te.Msg}
	}
	return fmt.Errorf("smtp %s: %w", cmd, err)
}
