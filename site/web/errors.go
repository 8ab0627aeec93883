package web

import (
	"errors"
	"strings"

	"github.com/familylinks/familylinks/site/store"
	"github.com/gofiber/fiber/v2"
)

// Error is an error that a handler returns to choose the status and the
// localized page the visitor sees; ErrorHandler renders it, and any other
// error a handler returns (a 500 unless it is a store error it knows).
// Only answers that are not error pages are written by handlers: a form
// shown again with its errors (422), and the JSON of the open directory.
type Error struct {
	Status int
	Title  string // message ID of the page title
	Text   string // message ID of the explanation
	Err    error  // the cause, logged, never shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Title
}

func (e *Error) Unwrap() error { return e.Err }

// NotFound is the error for an unknown page or record.
func NotFound() error {
	return &Error{Status: fiber.StatusNotFound, Title: "ErrorNotFoundTitle", Text: "ErrorNotFoundText"}
}

// BadRequest is the error for input that cannot be understood.
func BadRequest(cause error) error {
	return &Error{Status: fiber.StatusBadRequest, Title: "ErrorBadRequestTitle", Text: "ErrorBadRequestText", Err: cause}
}

// ErrorPage is the data of the error page.
type ErrorPage struct {
	Base
	Status int
	Text   string
}

// ErrorHandler is the site's single place that turns an error into a
// response: its status, a page in the visitor's language and a log line.
func (k *Kit) ErrorHandler(c *fiber.Ctx, err error) error {
	e := classify(err)
	lang, ok := k.Catalog.Lookup(firstSegment(c.Path()))
	if !ok {
		lang = k.Negotiate(c)
	}
	if e.Status >= 500 {
		k.Log.Error("request failed", "method", c.Method(), "path", c.Path(), "status", e.Status, "err", err)
	} else {
		k.Log.Debug("request refused", "method", c.Method(), "path", c.Path(), "status", e.Status, "err", err)
	}
	tr := k.Catalog.Translator(lang.Code)
	page := ErrorPage{Base: k.Base(lang, "/", tr.T(e.Title)), Status: e.Status, Text: tr.T(e.Text)}
	page.NoIndex = true
	page.Canonical, page.Alternates = "", nil
	if ok {
		// Keep the switcher on the same address, so that a visitor who
		// cannot read this page can still read it in another language.
		rest := strings.TrimPrefix(c.Path(), "/"+lang.Code)
		for i := range page.Switcher {
			page.Switcher[i].URL = "/" + page.Switcher[i].Code + rest
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if e.Status == fiber.StatusServiceUnavailable {
		c.Set(fiber.HeaderRetryAfter, "60")
	}
	body, rerr := k.Views.Execute("errors/error", page)
	if rerr != nil {
		k.Log.Error("error page failed", "err", rerr)
		return c.Status(e.Status).SendString(tr.T(e.Title))
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(e.Status).Send(body)
}

func classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	err = store.Classify(err)
	// Text PostgreSQL cannot hold (invalid UTF-8, a NUL byte) can only have
	// come from the request: no record matches it and none can store it.
	if errors.Is(err, store.ErrBadText) {
		return &Error{Status: fiber.StatusBadRequest, Title: "ErrorBadRequestTitle", Text: "ErrorBadRequestText", Err: err}
	}
	if errors.Is(err, store.ErrUnavailable) {
		return &Error{Status: fiber.StatusServiceUnavailable, Title: "ErrorServerTitle", Text: "ErrorServerText", Err: err}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch {
		case fe.Code == fiber.StatusNotFound || fe.Code == fiber.StatusMethodNotAllowed:
			return &Error{Status: fe.Code, Title: "ErrorNotFoundTitle", Text: "ErrorNotFoundText", Err: err}
		case fe.Code == fiber.StatusTooManyRequests:
			return &Error{Status: fe.Code, Title: "ErrorTooManyTitle", Text: "ErrorTooManyText", Err: err}
		case fe.Code >= 400 && fe.Code < 500:
			return &Error{Status: fe.Code, Title: "ErrorBadRequestTitle", Text: "ErrorBadRequestText", Err: err}
		}
	}
	return &Error{Status: fiber.StatusInternalServerError, Title: "ErrorServerTitle", Text: "ErrorServerText", Err: err}
}

func firstSegment(p string) string {
	p = strings.TrimPrefix(p, "/")
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return p
}

// Forbidden is the error for a refused action, such as a form without its
// CSRF token.
func Forbidden(cause error) error {
	return &Error{Status: fiber.StatusForbidden, Title: "ErrorBadRequestTitle", Text: "ErrorBadRequestText", Err: cause}
}
