// Package crypt seals personal data at rest with AES-256-GCM under a keyring
// taken from the environment, so that keys can be rotated: the first key
// seals, every key opens.
package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// EnvVar names the keyring variable: "id:base64key[,id:base64key…]", each
// key 32 bytes; the first is current.
const EnvVar = "FAMILYLINKS_DATA_KEY"

var idFormat = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,32}$`)

// ErrUnknownKey is returned when a value was sealed under a key the ring
// does not hold.
var ErrUnknownKey = errors.New("crypt: unknown key id")

// Keyring holds the data keys.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
	raw     map[string][]byte
}

// Parse reads a keyring in the EnvVar format.
func Parse(s string) (*Keyring, error) {
	k := &Keyring{aeads: map[string]cipher.AEAD{}, raw: map[string][]byte{}}
	for i, part := range strings.Split(strings.TrimSpace(s), ",") {
		id, b64, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok || !idFormat.MatchString(id) {
			return nil, fmt.Errorf("crypt: %s: entry %d is not id:base64key", EnvVar, i+1)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			key, err = base64.RawURLEncoding.DecodeString(b64)
		}
		if err != nil || len(key) != 32 {
			return nil, fmt.Errorf("crypt: %s: key %q must be 32 bytes in base64", EnvVar, id)
		}
		if _, dup := k.aeads[id]; dup {
			return nil, fmt.Errorf("crypt: %s: key id %q twice", EnvVar, id)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			k.current = id
		}
		k.aeads[id], k.raw[id] = aead, key
	}
	return k, nil
}

// NewKey returns a fresh keyring entry "id:base64key".
func NewKey(id string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return id + ":" + base64.StdEncoding.EncodeToString(b)
}

// Current is the id of the key that seals.
func (k *Keyring) Current() string { return k.current }

// Seal encrypts plaintext bound to aad (for example the record's
// reference, so that a sealed value cannot be moved to another record).
func (k *Keyring) Seal(plaintext, aad []byte) (keyID string, sealed []byte) {
	aead := k.aeads[k.current]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return k.current, aead.Seal(nonce, nonce, plaintext, aad)
}

// Open decrypts a value sealed by Seal under keyID.
func (k *Keyring) Open(keyID string, sealed, aad []byte) ([]byte, error) {
	aead, ok := k.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownKey, keyID)
	}
	if len(sealed) < aead.NonceSize() {
		return nil, errors.New("crypt: sealed value too short")
	}
	n := aead.NonceSize()
	out, err := aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, fmt.Errorf("crypt: open: %w", err)
	}
	return out, nil
}

// Derive returns a 32-byte secret for another purpose (for example CSRF
// tokens), derived from the current key so that every replica agrees.
func (k *Keyring) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, k.raw[k.current])
	m.Write([]byte("familylinks:" + purpose))
	return m.Sum(nil)
}

// Binding names where a sealed value is kept: its table, its column and
// its row (the record's public reference). SealAt binds a value to all
// three, so a ciphertext copied to another row, column or table does not
// open.
type Binding struct{ Table, Column, Row string }

// EnquiryPersonal is the binding of an enquiry's personal data.
func EnquiryPersonal(ref string) Binding { return Binding{"enquiries", "sealed", ref} }

// EnquiryEvent is the binding of a note or a transfer reason of the
// enquiry ref.
func EnquiryEvent(ref string) Binding { return Binding{"enquiry_events", "sealed", ref} }

// GalleryCase is the binding of a gallery entry's internal case reference.
func GalleryCase(ref string) Binding { return Binding{"gallery_entries", "case_sealed", ref} }

// StaffTOTP is the binding of an account's second-factor secret; id is the
// account's id in decimal.
func StaffTOTP(id string) Binding { return Binding{"staff", "totp_sealed", id} }

// BindingOf is the binding of a value kept in table for the record ref,
// for the tables that hold sealed values.
func BindingOf(table, ref string) (Binding, bool) {
	switch table {
	case "enquiries":
		return EnquiryPersonal(ref), true
	case "enquiry_events":
		return EnquiryEvent(ref), true
	case "gallery_entries":
		return GalleryCase(ref), true
	case "staff":
		return StaffTOTP(ref), true
	}
	return Binding{}, false
}

func (b Binding) aad() []byte {
	return []byte("familylinks/v2\x00" + b.Table + "\x00" + b.Column + "\x00" + b.Row)
}

// boundMagic starts every value sealed by SealAt; older values, bound to
// the row's reference alone, do not have it.
var boundMagic = []byte("FLv2")

// SealAt encrypts plaintext bound to b.
func (k *Keyring) SealAt(plaintext []byte, b Binding) (keyID string, sealed []byte) {
	id, s := k.Seal(plaintext, b.aad())
	return id, append(append([]byte(nil), boundMagic...), s...)
}

// OpenAt decrypts a value sealed by SealAt for b. A value sealed before
// bindings existed (bound to the row's reference alone) still opens, until
// `familylinks rekey` seals it again with its binding.
func (k *Keyring) OpenAt(keyID string, sealed []byte, b Binding) ([]byte, error) {
	if Bound(sealed) {
		if out, err := k.Open(keyID, sealed[len(boundMagic):], b.aad()); err == nil {
			return out, nil
		}
	}
	return k.Open(keyID, sealed, []byte(b.Row))
}

// Bound reports whether a sealed value carries its table, column and row.
func Bound(sealed []byte) bool { return bytes.HasPrefix(sealed, boundMagic) }
