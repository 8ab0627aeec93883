package staff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/argon2"

	"github.com/familylinks/familylinks/site/web"
)

// Argon2id parameters: OWASP's minimum (19 MiB, 2 passes, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	// Test binaries hash at a far lower cost (64 KiB, 1 pass): under
	// the race detector one hash at OWASP's cost takes 0.4 s of CPU, and
	// the tests sign in hundreds of times. A hash keeps its own parameters,
	// so either kind verifies in either binary; the site's binary, which
	// is never a test binary, makes only OWASP-cost hashes
	// (TestHashCost checks both).
	testMemory = 64
	testTime   = 1
	// MinPassword is the shortest password accepted, MaxPassword the
	// longest.
	MinPassword = 12
	MaxPassword = 200
)

// newPasswordProblem is the message ID of what is wrong with a new
// password and its confirmation, or "".
func newPasswordProblem(next, confirm string) string {
	switch {
	case len(next) < MinPassword:
		return "StaffPasswordTooShort"
	case len(next) > MaxPassword:
		return "StaffPasswordTooLong"
	case next != confirm:
		return "StaffPasswordMismatch"
	}
	return ""
}

// Every argon2id computation allocates its whole memory parameter (19 MiB
// here) for as long as it runs, and a flood of failed sign-ins can start
// one per request: 100 at once took a replica past 1.7 GB. At most
// MaxHashes run at once in a process, so password hashing never holds more
// than MaxHashes × 19 MiB ≈ 57 MiB, well inside the 512 MiB a pod is given,
// and two cores are kept busy (more in parallel would not finish sooner).
// A request that cannot get a slot within HashWait gets ErrBusy.
//
// The slots are process-wide on purpose: the memory they bound is the
// process's, whichever handler or command asks.
const (
	MaxHashes = 3
	HashWait  = 2 * time.Second
)

var hashSlots = make(chan struct{}, MaxHashes)

// newHashCost is the memory (KiB) and passes of a new hash.
func newHashCost() (memory, passes uint32) { return hashCost(testing.Testing()) }

func hashCost(inTest bool) (memory, passes uint32) {
	if inTest {
		return testMemory, testTime
	}
	return argonMemory, argonTime
}

// ErrBusy is returned when MaxHashes password checks are already running
// and none finished within HashWait: the visitor sees the localized
// "try again in a few minutes" page with a 503 and Retry-After.
var ErrBusy error = &web.Error{Status: fiber.StatusServiceUnavailable, Title: "ErrorServerTitle", Text: "ErrorServerText",
	Err: errors.New("staff: too many password checks at once")}

// idKey runs argon2id in one of the process's hashing slots.
func idKey(password, salt []byte, iter, mem uint32, threads uint8, n uint32) ([]byte, error) {
	t := time.NewTimer(HashWait)
	defer t.Stop()
	select {
	case hashSlots <- struct{}{}:
	case <-t.C:
		return nil, ErrBusy
	}
	defer func() { <-hashSlots }()
	return argon2.IDKey(password, salt, iter, mem, threads, n), nil
}

// HashPassword hashes a password with argon2id into a PHC string.
func HashPassword(password string) (string, error) {
	if len(password) < MinPassword {
		return "", fmt.Errorf("staff: password shorter than %d characters", MinPassword)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	memory, passes := newHashCost()
	key, err := idKey([]byte(password), salt, passes, memory, argonThreads, argonKeyLen)
	if err != nil {
		return "", err
	}
	return phc(salt, key, memory, passes), nil
}

// VerifyPassword reports whether password matches a PHC argon2id hash,
// using the parameters stored in the hash.
func VerifyPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("staff: not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("staff: unsupported argon2 version")
	}
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil {
		return false, errors.New("staff: bad argon2 parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errors.New("staff: bad salt")
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, errors.New("staff: bad key")
	}
	// A stored hash asking for more than this site's own parameters is
	// refused rather than allowed to allocate without bound.
	if mem > argonMemory || iter > 4*argonTime || threads > 4 || len(want) > 64 {
		return false, errors.New("staff: argon2 parameters above this site's")
	}
	got, err := idKey([]byte(password), salt, iter, mem, threads, uint32(len(want)))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// GeneratePassword returns a random one-time password of 24 characters
// (120 bits), easy to read aloud: no padding, upper case letters and digits.
func GeneratePassword() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// token returns a random URL-safe token of 32 bytes.
func token() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// dummyHash is the hash of a random password that a sign-in with an
// unknown address checks, so that it spends the same time as one with a
// known address: made once, at first use, at the cost of every new hash.
var dummyHash = sync.OnceValue(func() string {
	salt := make([]byte, 16)
	_, _ = rand.Read(salt)
	memory, passes := newHashCost()
	return phc(salt, argon2.IDKey([]byte(GeneratePassword()), salt, passes, memory, argonThreads, argonKeyLen), memory, passes)
})

// phc writes an argon2id hash as a PHC string.
func phc(salt, key []byte, memory, passes uint32) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, passes, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}
