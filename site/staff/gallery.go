package staff

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/photo"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// registerGallery adds the Trace the Face publishing pages.
func (h *Handler) registerGallery(r fiber.Router) {
	r.Get("/gallery", h.requireStaff, h.galleryList)                                 // the Society's entries by state
	r.Get("/gallery/new", h.requireStaff, h.galleryForm)                             // a new entry: photo, facts, consent
	r.Post("/gallery", h.requireStaff, h.galleryCreate)                              // store it pending, photo re-encoded (CSRF checked in the stream)
	r.Get("/gallery/:ref", h.requireStaff, h.galleryEntry)                           // one entry (audited), with its actions
	r.Get("/gallery/:ref/photo/:width", h.requireStaff, h.galleryPhoto)              // the photo, for its Society's staff
	r.Post("/gallery/:ref/approve", h.requireStaff, h.checkCSRF, h.galleryApprove)   // a second person publishes it
	r.Post("/gallery/:ref/withdraw", h.requireStaff, h.checkCSRF, h.galleryWithdraw) // withdrawn at once, with a reason
	r.Post("/gallery/:ref/renew", h.requireStaff, h.checkCSRF, h.galleryRenew)       // consent renewed: a new review date
}

// GalleryForm is what a caseworker typed, kept when the form comes back.
type GalleryForm struct {
	Gender, AgeGroup, Origin, Languages, CaseRef       string
	ConsentDate, ConsentVersion, ConsentBy, ReviewDate string
	Seeking                                            []string
}

// GalleryFormData is the data of the new-entry page.
type GalleryFormData struct {
	Form          GalleryForm
	Genders       []string
	AgeGroups     []string
	Relationships []string
	Countries     []InboxOption
	Errors        []string
}

func (h *Handler) galleryFormData(f GalleryForm, errs []string) GalleryFormData {
	d := GalleryFormData{Form: f, Genders: vocab.Genders.Codes(), AgeGroups: vocab.AgeGroups.Codes(), Relationships: vocab.Relationships.Codes(), Errors: errs}
	for _, c := range h.data.Countries {
		d.Countries = append(d.Countries, InboxOption{Code: c.ISO2, Name: c.NameEN})
	}
	slices.SortFunc(d.Countries, func(a, b InboxOption) int { return strings.Compare(a.Name, b.Name) })
	return d
}

func (h *Handler) galleryForm(c *fiber.Ctx) error {
	if u, _ := User(c); u.SocietyCode() == "" || len(u.SocietyCode()) != 2 {
		return web.NotFound()
	}
	today := time.Now().UTC()
	p := h.page(c, "StaffTitleGalleryNew")
	p.Data = h.galleryFormData(GalleryForm{ConsentDate: today.Format(time.DateOnly), ReviewDate: today.AddDate(1, 0, 0).Format(time.DateOnly)}, nil)
	return h.render(c, fiber.StatusOK, "staff/gallery-new", p)
}

func (h *Handler) galleryCreate(c *fiber.Ctx) error {
	u, _ := User(c)
	society := u.SocietyCode()
	if len(society) != 2 {
		return web.NotFound()
	}
	up, err := h.readUpload(c)
	if err != nil {
		return err
	}
	v := func(k string) string { return strings.TrimSpace(up.Fields.Get(k)) }
	f := GalleryForm{Gender: v("gender"), AgeGroup: v("age_group"), Origin: v("origin"), Languages: v("languages"),
		CaseRef: v("case_ref"), ConsentDate: v("consent_date"), ConsentVersion: v("consent_version"),
		ConsentBy: v("consent_by"), ReviewDate: v("review_date"), Seeking: up.Fields["seeking"]}
	// Each problem is written in the account's language at once.
	tr := h.tr(c)
	var errs []string
	bad := func(id string, pairs ...any) { errs = append(errs, tr.T(id, pairs...)) }
	if !vocab.Genders.Has(f.Gender) {
		bad("StaffGalleryErrGender")
	}
	if !vocab.AgeGroups.Has(f.AgeGroup) {
		bad("StaffGalleryErrAge")
	}
	if len(f.Seeking) == 0 {
		bad("StaffGalleryErrSeeking")
	}
	for _, s := range f.Seeking {
		if !vocab.Relationships.Has(s) {
			bad("StaffGalleryErrRelationship")
			break
		}
	}
	if _, ok := h.data.Country(f.Origin); !ok {
		bad("StaffGalleryErrOrigin")
	}
	var langs []string
	for _, l := range strings.FieldsFunc(f.Languages, func(r rune) bool { return r == ',' || r == ' ' }) {
		if len(l) < 2 || len(l) > 12 || strings.ContainsFunc(l, func(r rune) bool { return !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }) {
			bad("StaffGalleryErrLanguages")
			break
		}
		langs = append(langs, strings.ToLower(l))
	}
	if msg := checkText(f.CaseRef, 100); msg != "" {
		bad("StaffGalleryCaseRef", "Problem", tr.T(msg))
	}
	if msg := checkText(f.ConsentVersion, 50); msg != "" {
		bad("StaffGalleryConsentVersion", "Problem", tr.T(msg))
	}
	if msg := checkText(f.ConsentBy, 200); msg != "" {
		bad("StaffGalleryConsentBy", "Problem", tr.T(msg))
	}
	consent, err1 := time.Parse(time.DateOnly, f.ConsentDate)
	review, err2 := time.Parse(time.DateOnly, f.ReviewDate)
	switch {
	case err1 != nil || consent.After(time.Now()):
		bad("StaffGalleryErrConsentDate")
	case err2 != nil || !review.After(time.Now()):
		bad("StaffGalleryErrReviewDate")
	}
	var derivs []photo.Derivative
	if up.Photo == nil {
		bad("StaffGalleryErrPhoto")
	} else if len(errs) == 0 {
		// The original is processed in memory and never stored.
		derivs, err = photo.Process(bytes.NewReader(up.Photo))
		if id := photoRefusal(err); id != "" {
			bad(id)
		} else if why, refused := photo.Refusal(err); refused {
			bad("StaffGalleryErrPhotoRefused", "Why", why)
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		p := h.page(c, "StaffTitleGalleryNew")
		p.Data = h.galleryFormData(f, errs)
		return h.render(c, fiber.StatusUnprocessableEntity, "staff/gallery-new", p)
	}
	photos := make([]store.Photo, len(derivs))
	for i, d := range derivs {
		sum := sha256.Sum256(d.JPEG)
		photos[i] = store.Photo{Width: d.Width, Height: d.Height, JPEG: d.JPEG, ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
	}
	var e store.GalleryEntry
	for attempt := 0; ; attempt++ {
		ref := newGalleryRef()
		kid, sealed := h.keys.SealAt([]byte(f.CaseRef), crypt.GalleryCase(ref))
		e, err = h.store.CreateGalleryEntry(c.UserContext(), store.GalleryEntry{
			Ref: ref, Society: society, Gender: f.Gender, AgeGroup: f.AgeGroup, Seeking: f.Seeking, Origin: f.Origin,
			Languages: langs, CaseKeyID: kid, CaseSealed: sealed, ConsentDate: consent, ConsentFormVersion: f.ConsentVersion,
			ConsentRecordedBy: f.ConsentBy, ReviewDate: review, CreatedBy: u.ID,
		}, photos)
		if errors.Is(err, store.ErrDuplicateReference) && attempt < 3 {
			continue
		}
		break
	}
	if err != nil {
		return err
	}
	if err := h.galleryAudit(c, u, e, "gallery.create"); err != nil {
		return err
	}
	return c.Redirect("/staff/gallery/"+e.Ref, fiber.StatusSeeOther)
}

// newGalleryRef is a public reference: "TTF-" and 5 characters of
// Crockford's base 32, like TTF-7Q4K2.
func newGalleryRef() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	out := []byte("TTF-")
	for _, x := range b {
		out = append(out, alphabet[x&31])
	}
	return string(out)
}

func (h *Handler) galleryAudit(c *fiber.Ctx, u store.Staff, e store.GalleryEntry, action string) error {
	return h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: &e.Society,
		Action: action, ObjectType: "gallery", ObjectID: e.Ref, IP: h.clientIP(c)})
}

// loadGallery finds the entry in the path that the account may see; any
// other is a 404.
func (h *Handler) loadGallery(c *fiber.Ctx) (store.GalleryEntry, store.Staff, error) {
	u, _ := User(c)
	e, err := h.store.GalleryEntryByRef(c.UserContext(), utils.CopyString(c.Params("ref")))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !u.CanSee(e.Society)) {
		return store.GalleryEntry{}, u, web.NotFound()
	}
	return e, u, err
}

// GalleryRow is an entry in the staff list.
type GalleryRow struct {
	Ref, Status, Origin, Created, Review string
}

func (h *Handler) galleryList(c *fiber.Ctx) error {
	u, _ := User(c)
	list, err := h.store.GalleryEntries(c.UserContext(), u.SocietyCode(), c.Query("status"))
	if err != nil {
		return err
	}
	var rows []GalleryRow
	for _, e := range list {
		rows = append(rows, GalleryRow{Ref: e.Ref, Status: e.Status, Origin: h.countryName(c, e.Origin),
			Created: e.CreatedAt.UTC().Format(time.DateOnly), Review: e.ReviewDate.Format(time.DateOnly)})
	}
	if err := h.audit(c.UserContext(), u, "gallery.list", h.clientIP(c)); err != nil {
		return err
	}
	p := h.page(c, "StaffTitleGallery")
	p.Data = rows
	return h.render(c, fiber.StatusOK, "staff/gallery", p)
}

// GalleryEntryData is the data of an entry's staff page.
type GalleryEntryData struct {
	E          store.GalleryEntry
	CaseRef    string
	Origin     string
	Widths     []int
	CanApprove bool
	Reasons    []string
	// SeenBy is who opened this entry, newest first (administrators only:
	// "who saw this?").
	SeenBy *SeenBy
}

func (h *Handler) galleryEntry(c *fiber.Ctx) error {
	e, u, err := h.loadGallery(c)
	if err != nil {
		return err
	}
	if err := h.galleryAudit(c, u, e, "gallery.view"); err != nil {
		return err
	}
	caseRef, err := h.keys.OpenAt(e.CaseKeyID, e.CaseSealed, crypt.GalleryCase(e.Ref))
	if err != nil {
		return err
	}
	widths, err := h.store.GalleryWidths(c.UserContext(), e.ID)
	if err != nil {
		return err
	}
	d := GalleryEntryData{E: e, CaseRef: string(caseRef), Origin: h.countryName(c, e.Origin), Widths: widths,
		CanApprove: e.Status == "pending" && e.CreatedBy != u.ID && u.SocietyCode() == e.Society,
		Reasons:    []string{store.WithdrawConsent, store.WithdrawFamilyFound, store.WithdrawOther}}
	if d.SeenBy, err = h.seenBy(c, u, e.Society, "entry", "gallery.view", e.Ref); err != nil {
		return err
	}
	p := h.page(c, "StaffTitleGalleryEntry", "Ref", e.Ref)
	p.Data = d
	return h.render(c, fiber.StatusOK, "staff/gallery-entry", p)
}

func (h *Handler) galleryPhoto(c *fiber.Ctx) error {
	e, _, err := h.loadGallery(c)
	if err != nil {
		return err
	}
	w, err := strconv.Atoi(strings.TrimSuffix(c.Params("width"), ".jpg"))
	if err != nil {
		return web.NotFound()
	}
	p, err := h.store.GalleryPhotoOf(c.UserContext(), e.ID, w)
	if errors.Is(err, store.ErrNotFound) {
		return web.NotFound()
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	return c.Send(p.JPEG)
}

func (h *Handler) galleryApprove(c *fiber.Ctx) error {
	e, u, err := h.loadGallery(c)
	if err != nil {
		return err
	}
	// Only staff of the publishing Society approve, and never the creator.
	if u.SocietyCode() != e.Society {
		return web.NotFound()
	}
	err = h.store.ApproveGalleryEntry(c.UserContext(), e.ID, u.ID)
	if errors.Is(err, store.ErrSelfApproval) {
		return web.Forbidden(err)
	}
	if err != nil {
		return web.BadRequest(err)
	}
	if err := h.galleryAudit(c, u, e, "gallery.approve"); err != nil {
		return err
	}
	return c.Redirect("/staff/gallery/"+e.Ref, fiber.StatusSeeOther)
}

func (h *Handler) galleryWithdraw(c *fiber.Ctx) error {
	e, u, err := h.loadGallery(c)
	if err != nil {
		return err
	}
	reason := utils.CopyString(c.FormValue("reason"))
	if !slices.Contains([]string{store.WithdrawConsent, store.WithdrawFamilyFound, store.WithdrawOther}, reason) {
		return web.BadRequest(errors.New("staff: withdrawal needs a reason"))
	}
	if err := h.store.WithdrawGalleryEntry(c.UserContext(), e.ID, reason); err != nil {
		return err
	}
	if err := h.galleryAudit(c, u, e, "gallery.withdraw"); err != nil {
		return err
	}
	return c.Redirect("/staff/gallery/"+e.Ref, fiber.StatusSeeOther)
}

func (h *Handler) galleryRenew(c *fiber.Ctx) error {
	e, u, err := h.loadGallery(c)
	if err != nil {
		return err
	}
	review, err := time.Parse(time.DateOnly, c.FormValue("review_date"))
	if err != nil || !review.After(time.Now()) {
		return web.BadRequest(errors.New("staff: the review date must be in the future"))
	}
	if err := h.store.RenewGalleryConsent(c.UserContext(), e.ID, review); err != nil {
		return err
	}
	if err := h.galleryAudit(c, u, e, "gallery.renew"); err != nil {
		return err
	}
	return c.Redirect("/staff/gallery/"+e.Ref, fiber.StatusSeeOther)
}

// photoRefusal is the message ID that tells a caseworker why their photo
// was refused, or "" when err is not a refusal photo.Refusal knows.
func photoRefusal(err error) string {
	for _, r := range []struct {
		err error
		id  string
	}{
		{photo.ErrTooLarge, "StaffPhotoTooLarge"},
		{photo.ErrTooManyPixels, "StaffPhotoTooManyPixels"},
		{photo.ErrFormat, "StaffPhotoFormat"},
		{photo.ErrTooSmall, "StaffPhotoTooSmall"},
		{photo.ErrTooMuchMemory, "StaffPhotoTooMuchMemory"},
	} {
		if errors.Is(err, r.err) {
			return r.id
		}
	}
	return ""
}
