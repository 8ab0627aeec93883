package staff

import (
	"encoding/json"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// MaxNote is the longest note or transfer reason, in characters.
const MaxNote = 5000

func (h *Handler) requireAdmin(c *fiber.Ctx) error {
	if u, _ := User(c); !u.Admin() {
		return web.NotFound()
	}
	return c.Next()
}

// EnquiryRow is an enquiry in the inbox list: no personal data.
type EnquiryRow struct {
	Reference, Inbox, Status, Residence, Created string
}

// ListData is the data of the inbox list.
type ListData struct {
	Status   string
	Statuses []string
	Rows     []EnquiryRow
}

func (h *Handler) enquiries(c *fiber.Ctx) error {
	u, _ := User(c)
	status := c.Query("status")
	if status != "" && !slices.Contains([]string{store.StatusNew, store.StatusInProgress, store.StatusClosed}, status) {
		return web.BadRequest(errors.New("staff: unknown status filter"))
	}
	f := store.EnquiryFilter{Inbox: u.SocietyCode(), Status: status, Limit: 100}
	if u.Admin() {
		f.Inbox = c.Query("inbox")
	}
	list, err := h.store.Enquiries(c.UserContext(), f)
	if err != nil {
		return err
	}
	d := ListData{Status: status, Statuses: []string{store.StatusNew, store.StatusInProgress, store.StatusClosed}}
	for _, e := range list {
		d.Rows = append(d.Rows, EnquiryRow{Reference: e.Reference, Inbox: h.data.InboxName(e.Inbox), Status: e.Status,
			Residence: h.countryName(c, e.Residence), Created: e.CreatedAt.UTC().Format("2006-01-02 15:04")})
	}
	if err := h.audit(c.UserContext(), u, "enquiries.list", h.clientIP(c)); err != nil {
		return err
	}
	p := h.page(c, "StaffTitleEnquiries")
	p.Data = d
	return h.render(c, fiber.StatusOK, "staff/enquiries", p)
}

// countryName names a country in the language of the request's page.
func (h *Handler) countryName(c *fiber.Ctx, iso string) string {
	if _, ok := h.data.Country(iso); ok {
		return h.tr(c).Country(iso)
	}
	return iso
}

// loadEnquiry finds the enquiry named in the path that the account may
// see; any other answers 404, exactly like one that does not exist.
func (h *Handler) loadEnquiry(c *fiber.Ctx) (store.Enquiry, store.Staff, error) {
	u, _ := User(c)
	e, err := h.store.EnquiryByRef(c.UserContext(), utils.CopyString(c.Params("ref")))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !u.CanSee(e.Inbox)) {
		return store.Enquiry{}, u, web.NotFound()
	}
	return e, u, err
}

// EventView is one history line, its sealed text opened: Text is what the
// site says of it, in the page's language; Typed is the note or reason as
// the caseworker wrote it.
type EventView struct {
	At, Actor, Kind, Text, Typed string
}

// EnquiryData is the data of the enquiry page.
type EnquiryData struct {
	E            store.Enquiry
	P            *store.Personal
	Inbox        string
	Residence    string
	Events       []EventView
	Outcomes     []string
	Inboxes      []InboxOption
	CanReassign  bool
	MaxNote      int
	Purged       string
	Relationship string
	LangName     string
	// SeenBy is who opened this enquiry, newest first (administrators
	// only: "who saw this?").
	SeenBy *SeenBy
}

// InboxOption is a destination of a transfer.
type InboxOption struct{ Code, Name string }

func (h *Handler) enquiry(c *fiber.Ctx) error {
	e, u, err := h.loadEnquiry(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	// The audit line comes first: no personal data is shown unless the
	// view is recorded.
	if err := h.store.Audit(ctx, store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: &e.Inbox,
		Action: "enquiry.view", ObjectType: "enquiry", ObjectID: e.Reference, IP: h.clientIP(c)}); err != nil {
		return err
	}
	d := EnquiryData{E: e, Inbox: h.data.InboxName(e.Inbox), Residence: h.countryName(c, e.Residence),
		Outcomes: store.Outcomes(), CanReassign: u.Admin(), MaxNote: MaxNote, Relationship: e.Relationship, LangName: e.Lang}
	if l, ok := h.kit.Catalog.Lookup(e.Lang); ok {
		d.LangName = l.Name + " (" + l.Code + ")"
	}
	if d.SeenBy, err = h.seenBy(c, u, e.Inbox, "enquiry", "enquiry.view", e.Reference); err != nil {
		return err
	}
	if e.PurgedAt != nil {
		d.Purged = e.PurgedAt.UTC().Format(time.DateOnly)
	} else if e.KeyID != nil {
		plain, err := h.keys.OpenAt(*e.KeyID, e.Sealed, crypt.EnquiryPersonal(e.Reference))
		if err != nil {
			return err
		}
		var p store.Personal
		if err := json.Unmarshal(plain, &p); err != nil {
			return err
		}
		d.P = &p
	}
	events, err := h.store.Events(ctx, e.ID)
	if err != nil {
		return err
	}
	p := h.page(c, "StaffTitleEnquiry", "Ref", e.Reference)
	for _, ev := range events {
		v := EventView{At: ev.At.UTC().Format("2006-01-02 15:04"), Kind: p.T("StaffEvent_" + ev.Kind)}
		if ev.Actor != nil {
			v.Actor = *ev.Actor
		}
		switch ev.Kind {
		case "status":
			v.Text = p.T("StaffStatus_" + deref(ev.Status))
			if ev.Outcome != nil {
				v.Text = p.T("StaffEventOutcome", "Status", v.Text, "Outcome", p.T("StaffOutcome_"+*ev.Outcome))
			}
		case "transfer":
			v.Text = p.T("StaffEventTransfer", "From", h.data.InboxName(deref(ev.FromInbox)), "To", h.data.InboxName(deref(ev.ToInbox)))
		}
		if ev.KeyID != nil {
			plain, err := h.keys.OpenAt(*ev.KeyID, ev.Sealed, crypt.EnquiryEvent(e.Reference))
			if err != nil {
				return err
			}
			// What the caseworker typed, shown as typed.
			v.Typed = string(plain)
		}
		d.Events = append(d.Events, v)
	}
	for _, code := range h.data.Inboxes() {
		if code != e.Inbox {
			d.Inboxes = append(d.Inboxes, InboxOption{Code: code, Name: h.data.InboxName(code)})
		}
	}
	slices.SortFunc(d.Inboxes, func(a, b InboxOption) int { return strings.Compare(a.Name, b.Name) })
	p.Data = d
	return h.render(c, fiber.StatusOK, "staff/enquiry", p)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// checkText validates a note or reason: plain text, stored as typed. It
// returns the message ID of the problem, or "".
func checkText(s string, max int) string {
	switch {
	case strings.TrimSpace(s) == "":
		return "StaffTextEmpty"
	case !utf8.ValidString(s):
		return "StaffTextNotText"
	case utf8.RuneCountInString(s) > max:
		return "StaffTextTooLong"
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return "StaffTextControl"
		}
	}
	return ""
}

func (h *Handler) back(c *fiber.Ctx, e store.Enquiry) error {
	return c.Redirect("/staff/enquiries/"+e.Reference, fiber.StatusSeeOther)
}

func (h *Handler) addNote(c *fiber.Ctx) error {
	e, u, err := h.loadEnquiry(c)
	if err != nil {
		return err
	}
	note := utils.CopyString(c.FormValue("note"))
	if msg := checkText(note, MaxNote); msg != "" {
		return web.BadRequest(errors.New("staff: note: " + msg))
	}
	kid, sealed := h.keys.SealAt([]byte(note), crypt.EnquiryEvent(e.Reference))
	if err := h.store.AddNote(c.UserContext(), e.ID, u.ID, kid, sealed); err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: &e.Inbox,
		Action: "enquiry.note", ObjectType: "enquiry", ObjectID: e.Reference, IP: h.clientIP(c)}); err != nil {
		return err
	}
	return h.back(c, e)
}

func (h *Handler) setStatus(c *fiber.Ctx) error {
	e, u, err := h.loadEnquiry(c)
	if err != nil {
		return err
	}
	status, outcome := c.FormValue("status"), c.FormValue("outcome")
	switch {
	case status == store.StatusInProgress || status == store.StatusNew:
		outcome = ""
	case status == store.StatusClosed && slices.Contains(store.Outcomes(), outcome):
	default:
		return web.BadRequest(errors.New("staff: a status, and an outcome to close"))
	}
	if err := h.store.SetStatus(c.UserContext(), e.ID, u.ID, utils.CopyString(status), utils.CopyString(outcome)); err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: &e.Inbox,
		Action: "enquiry.status", ObjectType: "enquiry", ObjectID: e.Reference, IP: h.clientIP(c),
		Detail: map[string]any{"status": status, "outcome": outcome}}); err != nil {
		return err
	}
	return h.back(c, e)
}

func (h *Handler) transfer(c *fiber.Ctx) error {
	e, u, err := h.loadEnquiry(c)
	if err != nil {
		return err
	}
	to := utils.CopyString(c.FormValue("to"))
	reason := utils.CopyString(c.FormValue("reason"))
	if to == e.Inbox || !slices.Contains(h.data.Inboxes(), to) {
		return web.BadRequest(errors.New("staff: transfer to an unknown inbox"))
	}
	if msg := checkText(reason, 1000); msg != "" {
		return web.BadRequest(errors.New("staff: transfer reason: " + msg))
	}
	kid, sealed := h.keys.SealAt([]byte(reason), crypt.EnquiryEvent(e.Reference))
	if err := h.store.Transfer(c.UserContext(), e.ID, u.ID, to, kid, sealed); err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: &e.Inbox,
		Action: "enquiry.transfer", ObjectType: "enquiry", ObjectID: e.Reference, IP: h.clientIP(c),
		Detail: map[string]any{"from": e.Inbox, "to": to}}); err != nil {
		return err
	}
	if u.CanSee(to) {
		return h.back(c, e)
	}
	return c.Redirect("/staff/enquiries", fiber.StatusSeeOther)
}

// InboxRow is one inbox's settings, for administrators.
type InboxRow struct {
	Code, Name, Email string
	Off, Active       bool
	Caseworkers       int
}

func (h *Handler) inboxes(c *fiber.Ctx) error {
	u, _ := User(c)
	var rows []InboxRow
	for _, code := range h.data.Inboxes() {
		in, err := h.store.InboxByCode(c.UserContext(), code)
		if err != nil {
			return err
		}
		rows = append(rows, InboxRow{Code: code, Name: h.data.InboxName(code), Email: deref(in.NotificationEmail),
			Off: in.SwitchedOff, Active: in.Active(), Caseworkers: in.Caseworkers})
	}
	if err := h.audit(c.UserContext(), u, "inboxes.view", h.clientIP(c)); err != nil {
		return err
	}
	p := h.page(c, "StaffTitleInboxes")
	p.Data = rows
	return h.render(c, fiber.StatusOK, "staff/inboxes", p)
}

func (h *Handler) saveInbox(c *fiber.Ctx) error {
	u, _ := User(c)
	code := utils.CopyString(c.Params("code"))
	if !slices.Contains(h.data.Inboxes(), code) {
		return web.NotFound()
	}
	email := strings.TrimSpace(utils.CopyString(c.FormValue("email")))
	if email != "" {
		if a, err := mail.ParseAddress(email); err != nil || a.Address != email {
			return web.BadRequest(errors.New("staff: notification address is not an e-mail address"))
		}
	}
	off := c.FormValue("switched_off") == "yes"
	if err := h.store.SetInbox(c.UserContext(), code, email, off, u.ID); err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: &code,
		Action: "inbox.update", ObjectType: "inbox", ObjectID: code, IP: h.clientIP(c),
		Detail: map[string]any{"email": email, "switched_off": off}}); err != nil {
		return err
	}
	return c.Redirect("/staff/inboxes#inbox-"+code, fiber.StatusSeeOther)
}
