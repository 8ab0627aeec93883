package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/gofiber/fiber/v2"
	"github.com/klauspost/compress/gzip"
)

// Cache keeps pages that are the same for every visitor: rendered once, on
// first use, then served from memory with precompressed bodies and an ETag.
// Keys come only from validated input (a known language, page and country),
// so the cache is bounded by the site's own page count.
type Cache struct {
	entries sync.Map // key → *Entry
}

// Entry is one cached response body in three encodings.
type Entry struct {
	once        sync.Once
	build       func() ([]byte, error)
	contentType string
	body        []byte
	etag        string
	err         error
	// Each encoding is made on its first request: most clients want one.
	gzipOnce, brOnce sync.Once
	gzip, brotli     []byte
}

// NewEntry compresses a body now; it is used for assets known at start-up.
func NewEntry(contentType string, body []byte) *Entry {
	e := &Entry{contentType: contentType, build: func() ([]byte, error) { return body, nil }}
	e.load()
	return e
}

// Get returns the entry for key, building it with build on first use.
func (c *Cache) Get(key, contentType string, build func() ([]byte, error)) (*Entry, error) {
	v, ok := c.entries.Load(key)
	if !ok {
		v, _ = c.entries.LoadOrStore(key, &Entry{contentType: contentType, build: build})
	}
	e := v.(*Entry)
	e.load()
	return e, e.err
}

// Forget drops every entry whose key starts with prefix: pages built from
// data that has changed since.
func (c *Cache) Forget(prefix string) {
	c.entries.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(string), prefix) {
			c.entries.Delete(k)
		}
		return true
	})
}

func (e *Entry) load() {
	e.once.Do(func() {
		body, err := e.build()
		if err != nil {
			e.err = err
			return
		}
		e.body = body
		sum := sha256.Sum256(body)
		e.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
		e.build = nil
	})
}

// Gzip returns the body compressed with gzip at the best level.
func (e *Entry) Gzip() []byte {
	e.gzipOnce.Do(func() { e.gzip = compressGzip(e.body) })
	return e.gzip
}

// Brotli returns the body compressed with brotli at the best level.
func (e *Entry) Brotli() []byte {
	e.brOnce.Do(func() { e.brotli = compressBrotli(e.body) })
	return e.brotli
}

// Size returns the length of the body in an encoding: "br", "gzip" or "".
func (e *Entry) Size(encoding string) int {
	switch encoding {
	case "br":
		return len(e.Brotli())
	case "gzip":
		return len(e.Gzip())
	}
	return len(e.body)
}

// ETag returns the entry's strong validator.
func (e *Entry) ETag() string { return e.etag }

// Body returns the uncompressed body.
func (e *Entry) Body() []byte { return e.body }

// Serve sends the entry, or 304 when the client already has it.
// cacheControl is the Cache-Control value, for example "public, max-age=300".
func (e *Entry) Serve(c *fiber.Ctx, cacheControl string) error {
	c.Set(fiber.HeaderContentType, e.contentType)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderETag, e.etag)
	c.Set(fiber.HeaderCacheControl, cacheControl)
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), e.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	h := &c.Request().Header
	switch {
	case h.HasAcceptEncoding("br"):
		c.Set(fiber.HeaderContentEncoding, "br")
		return c.Send(e.Brotli())
	case h.HasAcceptEncoding("gzip"):
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(e.Gzip())
	}
	return c.Send(e.body)
}

func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// Writing to a bytes.Buffer cannot fail, so neither can compression.
func compressGzip(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func compressBrotli(b []byte) []byte {
	var buf bytes.Buffer
	w := brotli.NewWriterLevel(&buf, brotli.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// PublicPage is the Cache-Control of pages that are the same for everyone.
const PublicPage = "public, max-age=300"
