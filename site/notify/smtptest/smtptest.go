// Package smtptest runs a real SMTP server (go-smtp) on 127.0.0.1 for tests:
// it records what it accepts and can be told to refuse messages.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message the test server accepted.
type Received struct {
	From string
	To   []string
	Data []byte
	User string // who authenticated, if anyone
	Pass string
	TLS  bool
}

// Server is a real SMTP server (go-smtp) on 127.0.0.1 that records what
// it accepts, and can be told to refuse the next messages.
type Server struct {
	// Port is the port the server listens on, on 127.0.0.1.
	Port string
	// Accepted counts TCP connections.
	Accepted atomic.Int64

	mu         sync.Mutex
	msgs       []Received
	refuseAt   string // "RCPT" or "DATA"
	refuseCode int
	refuseN    int
	hold       chan struct{} // closed to let held messages through; nil: no hold
	held       []string      // senders of the messages held now
}

type Options struct {
	TLS      *tls.Config // offered through STARTTLS
	Implicit bool        // TLS from the first byte (smtps)
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	ts := &Server{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{ts: ts, conn: c}, nil
	}))
	srv.Domain = "mx.familylinks.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.AllowInsecureAuth = true // net/smtp allows PLAIN in clear to loopback only
	srv.ErrorLog = log.New(io.Discard, "", 0)
	var l net.Listener
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l = &countingListener{Listener: l, n: &ts.Accepted}
	if o.Implicit {
		l = tls.NewListener(l, o.TLS)
	} else {
		srv.TLSConfig = o.TLS
	}
	_, ts.Port, _ = net.SplitHostPort(l.Addr().String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Serve registers l only once it runs: a test that ends before
		// then would leave Close nothing to close.
		_ = l.Close()
		<-done
	})
	return ts
}

// Refuse makes the server refuse the next n messages with code, at "RCPT"
// or at "DATA" (after the message was transmitted).
func (ts *Server) Refuse(at string, code, n int) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.refuseAt, ts.refuseCode, ts.refuseN = at, code, n
}

func (ts *Server) refusal(at string) error {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.refuseN == 0 || ts.refuseAt != at {
		return nil
	}
	ts.refuseN--
	class := ts.refuseCode / 100
	return &smtp.SMTPError{
		Code:         ts.refuseCode,
		EnhancedCode: smtp.EnhancedCode{class, 3, 0},
		Message:      "told to refuse",
	}
}

// Hold makes the server keep every message it receives in DATA, without
// answering, until release is called: a test can see with Held which
// senders have a message in flight at the same time. release answers every
// held message and ends the hold.
func (ts *Server) Hold() (release func()) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ch := make(chan struct{})
	ts.hold = ch
	var once sync.Once
	return func() {
		once.Do(func() {
			ts.mu.Lock()
			ts.hold = nil
			ts.mu.Unlock()
			close(ch)
		})
	}
}

// Held returns the senders (MAIL FROM) of the messages held now.
func (ts *Server) Held() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.held...)
}

func (ts *Server) wait(from string) {
	ts.mu.Lock()
	ch := ts.hold
	if ch == nil {
		ts.mu.Unlock()
		return
	}
	ts.held = append(ts.held, from)
	ts.mu.Unlock()
	<-ch
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if i := slices.Index(ts.held, from); i >= 0 {
		ts.held = slices.Delete(ts.held, i, i+1)
	}
}

// Messages returns what the server accepted, in order.
func (ts *Server) Messages() []Received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]Received(nil), ts.msgs...)
}

type session struct {
	ts         *Server
	conn       *smtp.Conn
	from       string
	to         []string
	user, pass string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := s.ts.refusal("RCPT"); err != nil {
		return err
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := s.ts.refusal("DATA"); err != nil {
		return err
	}
	s.ts.wait(s.from)
	_, isTLS := s.conn.TLSConnectionState()
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	s.ts.msgs = append(s.ts.msgs, Received{From: s.from, To: s.to, Data: data, User: s.user, Pass: s.pass, TLS: isTLS})
	return nil
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != "mailer" || pass != "s3cret:/@" {
			return smtp.ErrAuthFailed
		}
		s.user, s.pass = user, pass
		return nil
	}), nil
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// Silent accepts TCP connections and never says a word: the server
// that hangs a client without a deadline.
func Silent(t testing.TB) (port string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, unread, until the test ends
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	_, port, _ = net.SplitHostPort(l.Addr().String())
	return port
}

// TLS returns a server configuration with a fresh certificate for
// 127.0.0.1, and a client configuration that trusts it.
func TLS(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "notify test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool}
	return server, client
}
