package web

import (
	"io"

	"github.com/gofiber/fiber/v2"
)

// BodyLimit is the largest request body a route accepts unless LimitBody
// lets it through: the contact form at its longest (5,000 characters of
// Ethiopic, percent-encoded, is about 45 KB) and every other form fit.
const BodyLimit = 64 << 10

// LimitBody refuses, before any handler runs, a request body larger than
// limit bytes on every route but those allow accepts (the authenticated
// photo upload, which reads its own body as a stream and bounds it).
//
// The server streams request bodies (Fiber's StreamRequestBody) and reads
// at most limit bytes of one before the handlers run, so an anonymous
// client cannot make it hold megabytes per connection: a declared length
// over the limit is refused unread and the connection closed; a chunked
// body is read up to the limit and refused past it.
func LimitBody(limit int, allow func(*fiber.Ctx) bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if allow != nil && allow(c) {
			// Its handler may answer before reading all of the body (a
			// sign-in page, a refused token): what is left of it must not
			// be read as the next request on the connection.
			if c.Request().Header.ContentLength() != 0 {
				c.Context().SetConnectionClose()
			}
			return c.Next()
		}
		switch n := c.Request().Header.ContentLength(); {
		case n > limit:
			c.Context().SetConnectionClose()
			return TooLarge()
		case n == -1 && c.Request().IsBodyStream(): // chunked: length unknown
			b, err := io.ReadAll(io.LimitReader(c.Context().RequestBodyStream(), int64(limit)+1))
			if err != nil {
				return BadRequest(err)
			}
			if len(b) > limit {
				c.Context().SetConnectionClose()
				return TooLarge()
			}
			c.Request().SetBody(b)
		}
		return c.Next()
	}
}

// TooLarge is the error for a request body over the limit.
func TooLarge() error {
	return &Error{Status: fiber.StatusRequestEntityTooLarge, Title: "ErrorTooLargeTitle", Text: "ErrorTooLargeText"}
}
