package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// CSRF protects the public forms with signed double-submit tokens: a random
// nonce in an HttpOnly cookie, and in the form a token that signs that
// nonce and a time with a secret every replica shares. Nothing is stored
// server-side, so the forms work before any session exists.
type CSRF struct {
	Secret []byte
	// Secure makes the cookie __Host- and Secure (HTTPS sites).
	Secure bool
	// MaxAge is how long a token stays valid (default 4 hours: people
	// under stress take their time).
	MaxAge time.Duration
}

// ErrCSRF is returned when a form's token is missing, wrong or expired.
var ErrCSRF = errors.New("web: missing, wrong or expired form token")

func (x *CSRF) cookieName() string {
	if x.Secure {
		return "__Host-fl_csrf"
	}
	return "fl_csrf"
}

func (x *CSRF) maxAge() time.Duration {
	if x.MaxAge <= 0 {
		return 4 * time.Hour
	}
	return x.MaxAge
}

// Token returns a token for the form on this page, setting the nonce
// cookie when the visitor has none.
func (x *CSRF) Token(c *fiber.Ctx) string {
	nonce := c.Cookies(x.cookieName())
	if len(nonce) < 16 {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		nonce = base64.RawURLEncoding.EncodeToString(b)
		c.Cookie(&fiber.Cookie{
			Name: x.cookieName(), Value: nonce, Path: "/", HTTPOnly: true,
			Secure: x.Secure, SameSite: fiber.CookieSameSiteLaxMode,
		})
	} else {
		nonce = utils.CopyString(nonce)
	}
	return x.sign(nonce, time.Now())
}

// sign makes a token for nonce at a time. The salt is fresh for every
// token, so no two pages carry the same one, even within a second: that is
// what lets a page with a token be compressed without its size giving the
// token away (BREACH).
func (x *CSRF) sign(nonce string, at time.Time) string {
	salt := make([]byte, 9)
	_, _ = rand.Read(salt)
	return x.mac(nonce, at, salt)
}

func (x *CSRF) mac(nonce string, at time.Time, salt []byte) string {
	ts := make([]byte, 8)
	binary.BigEndian.PutUint64(ts, uint64(at.Unix()))
	m := hmac.New(sha256.New, x.Secret)
	m.Write(ts)
	m.Write(salt)
	m.Write([]byte(nonce))
	enc := base64.RawURLEncoding
	return enc.EncodeToString(ts) + "." + enc.EncodeToString(salt) + "." + enc.EncodeToString(m.Sum(nil))
}

// Check verifies the form field _csrf against the cookie.
func (x *CSRF) Check(c *fiber.Ctx) error {
	nonce := c.Cookies(x.cookieName())
	token := c.FormValue("_csrf")
	parts := strings.Split(token, ".")
	if nonce == "" || len(parts) != 3 {
		return ErrCSRF
	}
	ts, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || len(ts) != 8 {
		return ErrCSRF
	}
	salt, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || len(salt) != 9 {
		return ErrCSRF
	}
	at := time.Unix(int64(binary.BigEndian.Uint64(ts)), 0)
	if time.Since(at) > x.maxAge() || time.Until(at) > time.Minute {
		return ErrCSRF
	}
	if !hmac.Equal([]byte(x.mac(nonce, at, salt)), []byte(token)) {
		return ErrCSRF
	}
	return nil
}
