package staff

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/familylinks/familylinks/site/photo"
	"github.com/familylinks/familylinks/site/web"
)

// The photo upload is the one route whose body may be large (a 10 MB
// photo). The server streams request bodies and web.LimitBody lets this
// route's through unread; the handler reads it itself, as a stream, only
// after the session is known, and only MaxUploads at once: a flood of
// uploads, signed in or not, holds a few megabytes, never a body each.
const (
	// MaxUploads is how many photo uploads are read and processed at once.
	MaxUploads = 2
	// maxFields bounds the bytes of all the form's other fields together.
	maxFields = 64 << 10
	// uploadWait is how long an upload waits for a free slot.
	uploadWait = 5 * time.Second
	// maxUploadBody is the most of an upload's body that is read: past
	// the photo's 10 MB the rest of the file is read and thrown away, so
	// that the fields after it are kept for the form that comes back.
	maxUploadBody = 32 << 20
)

var uploadSlots = make(chan struct{}, MaxUploads)

// errUploadBusy: MaxUploads uploads are already being read; the caseworker
// is asked to try again shortly, nothing having been read.
var errUploadBusy error = &web.Error{Status: fiber.StatusServiceUnavailable, Title: "ErrorServerTitle", Text: "ErrorServerText",
	Err: errors.New("staff: too many photo uploads at once")}

// IsUpload reports whether the request is the photo upload, whose body
// web.LimitBody leaves to the handler.
func IsUpload(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && c.Path() == "/staff/gallery"
}

// upload is a photo upload read from the request stream.
type upload struct {
	Fields url.Values
	Photo  []byte // nil when no file was chosen
}

// readUpload reads the multipart body of the upload from its stream,
// checking the form's CSRF token (the form's first field) before a byte of
// the photo is read. The photo is read up to photo.MaxBytes+1 bytes (more
// is photo.ErrTooLarge for Process to report); the other fields up to
// maxFields together.
func (h *Handler) readUpload(c *fiber.Ctx) (upload, error) {
	t := time.NewTimer(uploadWait)
	defer t.Stop()
	select {
	case uploadSlots <- struct{}{}:
	case <-t.C:
		c.Context().SetConnectionClose()
		return upload{}, errUploadBusy
	}
	defer func() { <-uploadSlots }()
	// Whatever is left of the body unread must not be taken for the next
	// request on the connection: the connection ends with this answer.
	c.Context().SetConnectionClose()

	mt, params, err := mime.ParseMediaType(string(c.Request().Header.ContentType()))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return upload{}, web.BadRequest(fmt.Errorf("staff: upload is not multipart/form-data: %q", c.Request().Header.ContentType()))
	}
	var body io.Reader
	if c.Request().IsBodyStream() {
		body = c.Context().RequestBodyStream()
	} else {
		body = bytes.NewReader(c.Body())
	}
	// Never read more than a full form could be.
	body = io.LimitReader(body, maxUploadBody)
	sess, _, _ := session(c)
	csrfOK := false
	up := upload{Fields: url.Values{}}
	fieldBytes := 0
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return upload{}, web.BadRequest(fmt.Errorf("staff: reading the upload: %w", err))
		}
		name := part.FormName()
		if part.FileName() != "" || name == "photo" {
			if !csrfOK {
				return upload{}, web.Forbidden(errors.New("staff: upload without its CSRF token first"))
			}
			if name != "photo" || up.Photo != nil {
				return upload{}, web.BadRequest(errors.New("staff: unexpected file in the upload"))
			}
			b, err := io.ReadAll(io.LimitReader(part, photo.MaxBytes+1))
			if err == nil && len(b) > photo.MaxBytes {
				// Too large: Process says so; the fields after it are kept.
				_, err = io.Copy(io.Discard, part)
			}
			if err != nil {
				return upload{}, web.BadRequest(fmt.Errorf("staff: reading the photo: %w", err))
			}
			if len(b) > 0 {
				up.Photo = b
			} else {
				up.Photo = nil
			}
			// A browser sends an empty file part when none was chosen.
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, int64(maxFields-fieldBytes)+1))
		if err != nil {
			return upload{}, web.BadRequest(fmt.Errorf("staff: reading the upload: %w", err))
		}
		fieldBytes += len(b)
		if fieldBytes > maxFields {
			return upload{}, web.TooLarge()
		}
		if name == "_csrf" {
			csrfOK = sess.CSRFToken != "" && subtle.ConstantTimeCompare(b, []byte(sess.CSRFToken)) == 1
			if !csrfOK {
				return upload{}, web.Forbidden(errors.New("staff: missing or wrong CSRF token"))
			}
			continue
		}
		up.Fields.Add(name, strings.Clone(string(b)))
	}
	if !csrfOK {
		return upload{}, web.Forbidden(errors.New("staff: missing CSRF token"))
	}
	return up, nil
}
