package staff

import (
	"encoding/csv"
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/familylinks/familylinks/site/store"
)

// The audit trail for administrators: who saw or changed what, filtered,
// newest first, a page at a time, and exported as CSV. Viewing it and
// exporting it are audited too. Society administrators see their own
// Society's entries only, whatever the filter asks.

const auditPage = 50

// AuditData is the data of the audit page.
type AuditData struct {
	Filter  AuditQuery
	Entries []store.AuditEntry
	// Export is the CSV of this filter; Next the next (older) page, when
	// there is one. Both are built from url.Values, so already escaped.
	Export, Next template.URL
	// Problem says what in the filter could not be read.
	Problem string
}

// AuditQuery is the filter as typed, kept as text so that it comes back
// in the form exactly.
type AuditQuery struct {
	Society, Actor, Action, Object, From, To string
}

// Query is the filter as a query string, for links.
func (q AuditQuery) Query() string {
	v := url.Values{}
	for k, s := range map[string]string{"society": q.Society, "actor": q.Actor, "action": q.Action, "object": q.Object, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

func (q AuditQuery) values() string { return q.Query() }

// auditFilter reads the filter from the query string; the text of a date
// that is not YYYY-MM-DD is reported (problem), not guessed.
func auditFilter(c *fiber.Ctx) (AuditQuery, store.AuditFilter, string) {
	u, _ := User(c)
	q := AuditQuery{
		Society: strings.ToLower(strings.TrimSpace(c.Query("society"))), Actor: strings.ToLower(strings.TrimSpace(c.Query("actor"))),
		Action: strings.TrimSpace(c.Query("action")), Object: strings.TrimSpace(c.Query("object")),
		From: strings.TrimSpace(c.Query("from")), To: strings.TrimSpace(c.Query("to")),
	}
	if !u.Admin() {
		q.Society = u.SocietyCode()
	}
	f := store.AuditFilter{Society: q.Society, Actor: q.Actor, Action: q.Action, ObjectID: q.Object, Limit: auditPage + 1}
	var problem string
	for _, d := range []struct {
		text string
		into *time.Time
		next bool
	}{{q.From, &f.From, false}, {q.To, &f.To, true}} {
		if d.text == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, d.text)
		if err != nil {
			problem = d.text // not a date
			continue
		}
		if d.next { // "to" includes the whole day
			t = t.AddDate(0, 0, 1)
		}
		*d.into = t
	}
	if before, err := strconv.ParseInt(c.Query("before"), 10, 64); err == nil && before > 0 {
		f.BeforeID = before
	}
	return q, f, problem
}

func (h *Handler) auditPage(c *fiber.Ctx) error {
	u, _ := User(c)
	q, f, problem := auditFilter(c)
	d := AuditData{Filter: q}
	status := fiber.StatusOK
	if problem != "" {
		d.Problem = h.tr(c).T("StaffAuditBadDate", "Text", problem)
		status = fiber.StatusUnprocessableEntity
	} else {
		entries, err := h.store.AuditEntries(c.UserContext(), f)
		if err != nil {
			return err
		}
		if len(entries) > auditPage {
			entries = entries[:auditPage]
			next := q.Query()
			if next != "" {
				next += "&"
			}
			d.Next = template.URL("/staff/audit?" + next + "before=" + strconv.FormatInt(entries[len(entries)-1].ID, 10)) // #nosec: url.Values.Encode
		}
		d.Entries = entries
	}
	d.Export = template.URL("/staff/audit.csv?" + q.Query()) // #nosec: url.Values.Encode
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: u.Society,
		Action: "audit.view", IP: h.clientIP(c), Detail: map[string]any{"filter": q.values()}}); err != nil {
		return err
	}
	p := h.page(c, "StaffTitleAudit")
	p.Data = d
	return h.render(c, status, "staff/audit", p)
}

// auditCSV exports the filtered entries (up to 10,000, newest first).
func (h *Handler) auditCSV(c *fiber.Ctx) error {
	u, _ := User(c)
	q, f, problem := auditFilter(c)
	if problem != "" {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("%q is not a date: write it as YYYY-MM-DD", problem))
	}
	f.Limit, f.BeforeID = 10000, 0
	entries, err := h.store.AuditEntries(c.UserContext(), f)
	if err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: u.Society,
		Action: "audit.export", IP: h.clientIP(c), Detail: map[string]any{"filter": q.values(), "rows": len(entries)}}); err != nil {
		return err
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"id", "at", "actor", "society", "action", "object_type", "object_id"})
	for _, e := range entries {
		soc := ""
		if e.Society != nil {
			soc = *e.Society
		}
		_ = w.Write([]string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339), csvSafe(e.Actor), soc, e.Action, e.ObjectType, csvSafe(e.ObjectID)})
	}
	w.Flush()
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="familylinks-audit.csv"`)
	return c.SendString(b.String())
}

// csvSafe keeps a spreadsheet from reading a typed value as a formula
// (an e-mail typed at the login form is logged as typed).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// SeenBy is who opened an enquiry or a gallery entry ("who saw this?"),
// for administrators and the Society administrators of its Society.
type SeenBy struct {
	What, Ref string
	Entries   []store.AuditEntry
}

// seenBy lists the views of an object of a Society, newest first; nil for
// anyone who does not manage that Society.
func (h *Handler) seenBy(c *fiber.Ctx, u store.Staff, society, what, action, ref string) (*SeenBy, error) {
	if !u.CanManage(society) {
		return nil, nil
	}
	entries, err := h.store.AuditEntries(c.UserContext(), store.AuditFilter{Action: action, ObjectID: ref, Limit: 50})
	if err != nil {
		return nil, err
	}
	return &SeenBy{What: what, Ref: ref, Entries: entries}, nil
}
