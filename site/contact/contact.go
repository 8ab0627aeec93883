// Package contact is the contact form: it validates an enquiry, routes it
// to the right inbox, seals its personal data and commits it before it
// tells the person it was received.
package contact

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
)

// Rate limit of enquiries per client address.
const (
	RateWindow = 10 * time.Minute
	RateMax    = 10
)

// Handler serves the contact form.
type Handler struct {
	kit   *web.Kit
	data  *content.Data
	store *store.Store // nil: the form shows, but cannot be sent
	keys  *crypt.Keyring
	csrf  *web.CSRF
}

// New returns the contact form's handler.
func New(kit *web.Kit, data *content.Data, st *store.Store, keys *crypt.Keyring, csrf *web.CSRF) *Handler {
	return &Handler{kit: kit, data: data, store: st, keys: keys, csrf: csrf}
}

// Register registers the routes under /{lang}.
func (h *Handler) Register(r fiber.Router) {
	r.Get("/contact", h.form)      // the form; ?country=xx preselects the residence
	r.Post("/contact", h.submit)   // validate, route, seal, commit, then confirm
	r.Get("/contact/sent", h.sent) // the confirmation: reference and what happens next
}

// Option is one entry of a select.
type Option = web.Option

// FormPage is the data of the form page.
type FormPage struct {
	web.Base
	Form          Form
	Errors        map[string]string
	ErrorOrder    []string
	CSRF          string
	Countries     []Option
	Languages     []Option
	Relationships []Option
	Circumstances []Option
	Banner        string // a message above the form, such as "too many requests"
	MaxMessage    int
}

// Err returns the localized error of a field, or "".
func (p *FormPage) Err(field string) string { return p.Errors[field] }

func (h *Handler) form(c *fiber.Ctx) error {
	lang := web.Lang(c)
	f := Form{Lang: lang.Code}
	if iso := strings.ToLower(c.Query("country")); iso != "" {
		if _, ok := h.data.Country(iso); ok {
			f.Residence = iso
		}
	}
	return h.render(c, fiber.StatusOK, f, nil, "")
}

func (h *Handler) render(c *fiber.Ctx, status int, f Form, errs map[string]FieldError, banner string) error {
	lang := web.Lang(c)
	tr := h.kit.Catalog.Translator(lang.Code)
	p := &FormPage{
		Base: h.kit.Base(lang, "/contact", tr.T("ContactTitle")), Form: f, Errors: map[string]string{},
		CSRF: h.csrf.Token(c), Banner: banner, MaxMessage: MaxMessage,
	}
	p.NoIndex = len(errs) > 0 || banner != ""
	for _, field := range []string{"residence", "name", "email", "phone", "reach", "lang", "sought_name", "sought_age",
		"sought_place", "lost_when", "relationship", "circumstance", "message", "consent", "form"} {
		if e, ok := errs[field]; ok {
			p.Errors[field] = tr.T(e.ID, e.Args...)
			p.ErrorOrder = append(p.ErrorOrder, field)
		}
	}
	p.Countries = h.kit.Countries.Options(lang.Code, f.Residence)
	for _, l := range h.kit.Catalog.Languages() {
		p.Languages = append(p.Languages, Option{Value: l.Code, Label: l.Name, Selected: l.Code == f.Lang})
	}
	for _, r := range vocab.Relationships {
		p.Relationships = append(p.Relationships, Option{Value: r.Code, Label: tr.T(r.Message), Selected: r.Code == f.Relationship})
	}
	for _, r := range vocab.Circumstances {
		p.Circumstances = append(p.Circumstances, Option{Value: r.Code, Label: tr.T(r.Message), Selected: r.Code == f.Circumstance})
	}
	b, err := h.kit.Views.Execute("contact/form", p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Status(status)
	if c.Method() == fiber.MethodGet {
		// An empty form: its one secret is the salted token.
		return web.SendCompressed(c, b)
	}
	// A form sent back with what the person typed stays uncompressed.
	return c.Send(b)
}

func (h *Handler) submit(c *fiber.Ctx) error {
	lang := web.Lang(c)
	f := readForm(c)
	if err := h.csrf.Check(c); err != nil {
		// Keep everything typed: a stale page must not cost the person
		// their message.
		return h.render(c, fiber.StatusForbidden, f, map[string]FieldError{"form": {ID: "ErrExpired"}}, "")
	}
	ctx := c.UserContext()
	if h.store == nil || h.keys == nil {
		// Without a database nothing can be kept: the form still checks
		// what was typed, and a valid one is shown again under the
		// "try again later" banner, with everything in it.
		return h.checkOnly(c, f)
	}
	n, _, err := h.store.Hit(ctx, "contact:ip:"+web.ClientKey(c), RateWindow)
	if err != nil {
		return h.unavailable(c, f, err)
	}
	if n > RateMax {
		c.Set(fiber.HeaderRetryAfter, "600")
		tr := h.kit.Catalog.Translator(lang.Code)
		return h.render(c, fiber.StatusTooManyRequests, f, nil, tr.T("TooManyText"))
	}
	// A field hidden from people: only a robot fills it in.
	if f.Honeypot != "" {
		return h.render(c, fiber.StatusUnprocessableEntity, f, map[string]FieldError{"form": {ID: "ErrExpired"}}, "")
	}
	if errs := h.validate(f); len(errs) > 0 {
		return h.render(c, fiber.StatusUnprocessableEntity, f, errs, "")
	}
	e, err := h.create(ctx, f, lang.Code)
	if errors.Is(err, errNotPublished) {
		tr := h.kit.Catalog.Translator(lang.Code)
		// As on the photo's page: withdrawn and never published alike.
		return h.render(c, fiber.StatusNotFound, f, nil, tr.T("PhotoGoneTitle")+". "+tr.T("PhotoGoneText"))
	}
	if err != nil {
		return h.unavailable(c, f, err)
	}
	c.Cookie(&fiber.Cookie{
		Name: "fl_sent", Value: e.Reference, Path: "/", MaxAge: 3600,
		Secure: h.kit.SecureCookies, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
	return c.Redirect("/"+lang.Code+"/contact/sent", fiber.StatusSeeOther)
}

func (h *Handler) validate(f Form) map[string]FieldError {
	_, known := h.kit.Catalog.Lookup(f.Lang)
	return f.validate(func(iso string) bool { _, ok := h.data.Country(iso); return ok }, func(string) bool { return known })
}

// checkOnly answers a form on a site without a database.
func (h *Handler) checkOnly(c *fiber.Ctx, f Form) error {
	if f.Honeypot != "" {
		return h.render(c, fiber.StatusUnprocessableEntity, f, map[string]FieldError{"form": {ID: "ErrExpired"}}, "")
	}
	if errs := h.validate(f); len(errs) > 0 {
		return h.render(c, fiber.StatusUnprocessableEntity, f, errs, "")
	}
	return h.unavailable(c, f, errors.New("contact: no database or data key configured"))
}

// unavailable answers a form that could not be stored, PostgreSQL being
// down or too slow, with the form again and everything typed in it, under
// a banner asking to send it again in a few minutes: a failure never loses
// input. Nothing was acknowledged, so nothing is lost if it is not resent.
func (h *Handler) unavailable(c *fiber.Ctx, f Form, err error) error {
	h.kit.Log.Error("contact: enquiry not stored; the form is shown again", "err", err)
	c.Set(fiber.HeaderRetryAfter, "60")
	tr := h.kit.Catalog.Translator(web.Lang(c).Code)
	return h.render(c, fiber.StatusServiceUnavailable, f, nil, tr.T("ErrorServerTitle")+": "+tr.T("ErrorServerText"))
}

// errNotPublished is returned for information about a photo that is not
// published (any more).
var errNotPublished = errors.New("contact: the photo is not published")

// create routes, seals and commits an enquiry.
func (h *Handler) create(ctx context.Context, f Form, lang string) (store.Enquiry, error) {
	kind, about := "residence", (*string)(nil)
	var inbox content.Destination
	var err error
	if f.About != "" {
		// Information about a photo goes to the Society that published it.
		e, gerr := h.store.GalleryEntryByRef(ctx, f.About)
		// A demo photo is nobody: information about it goes nowhere.
		if errors.Is(gerr, store.ErrNotFound) || (gerr == nil && (e.Status != "published" || e.Demo)) {
			return store.Enquiry{}, errNotPublished
		}
		if gerr != nil {
			return store.Enquiry{}, gerr
		}
		inbox, err = h.data.RouteGallery(e.Society)
		kind, about = "gallery", &e.Ref
	} else {
		inbox, err = h.routeInbox(ctx, f.Residence)
	}
	if err != nil {
		return store.Enquiry{}, err
	}
	personal, err := json.Marshal(f.Personal())
	if err != nil {
		return store.Enquiry{}, err
	}
	for attempt := 0; ; attempt++ {
		ref := NewReference()
		kid, sealed := h.keys.SealAt(personal, crypt.EnquiryPersonal(ref))
		e, err := h.store.CreateEnquiry(ctx, store.Enquiry{
			Reference: ref, Kind: kind, GalleryRef: about, Residence: f.Residence, Lang: lang,
			Inbox: inbox.Inbox, RouteReason: inbox.Reason, RouteNote: inbox.Explanation,
			Relationship: f.Relationship, Circumstance: f.Circumstance, KeyID: &kid, Sealed: sealed,
		})
		// A reference collision (60 random bits) is retried, anything else not.
		if errors.Is(err, store.ErrDuplicateReference) && attempt < 2 {
			continue
		}
		return e, err
	}
}

func (h *Handler) routeInbox(ctx context.Context, residence string) (content.Destination, error) {
	// One read of every active inbox: the residence's Society, the Society
	// covering a territory and the ICRC delegation may each be asked.
	active, err := h.store.ActiveInboxes(ctx)
	if err != nil {
		return content.Destination{}, err
	}
	return h.data.Route(residence, func(code string) bool { return active[code] })
}

// SentPage is the data of the confirmation page.
type SentPage struct {
	web.Base
	Reference string
	// AboutPhoto is set for information about a Trace the Face photo. The
	// page then names no Society, country, website or inbox: the Society
	// that published the photo would tell where the person in it lives.
	AboutPhoto  bool
	Destination string
	Website     string
	ICRC        string
}

func (h *Handler) sent(c *fiber.Ctx) error {
	lang := web.Lang(c)
	tr := h.kit.Catalog.Translator(lang.Code)
	p := &SentPage{Base: h.kit.Base(lang, "/contact/sent", tr.T("SentTitle")), ICRC: content.ICRCWhereWeWork}
	p.NoIndex = true
	ref := c.Cookies("fl_sent")
	if ref != "" && h.store != nil {
		e, err := h.store.EnquiryByRef(c.UserContext(), ref)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && e.GalleryRef != nil {
			p.Reference, p.AboutPhoto = e.Reference, true
		} else if err == nil {
			p.Reference = e.Reference
			p.Destination = web.InSentence(lang.Code, h.data.InboxNameIn(e.Inbox, lang.Code))
			if e.Inbox == content.CentralInbox {
				p.Destination = tr.T("SentICRC")
			}
			if cn, ok := h.data.Country(e.Inbox); ok && cn.Society.Active() {
				p.Website = cn.Society.Website
			}
		}
	}
	b, err := h.kit.Views.Execute("contact/sent", p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(b)
}

// referenceAlphabet is Crockford's base 32: no I, L, O or U to misread.
const referenceAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewReference returns an unguessable enquiry reference: "FL-" and 12
// characters (60 random bits) in three groups, easy to read aloud.
func NewReference() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	var sb strings.Builder
	sb.WriteString("FL")
	for i, x := range b {
		if i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(referenceAlphabet[x&31])
	}
	return sb.String()
}
