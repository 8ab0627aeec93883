package staff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/notify"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/web"
)

// Societies manage their own staff: a Society administrator invites
// colleagues of the same Society, sets their roles within it (caseworker,
// page editor), disables accounts and resets a lost second factor, and
// sets whether the Society requires a second factor. A Movement
// administrator does the same for every Society (and makes Society
// administrators). An account of another Society, or an administrator's,
// is not found (404) for a Society administrator, on every route.

func (h *Handler) registerPeople(r fiber.Router) {
	m := []fiber.Handler{h.requireStaff, h.requireManager}
	r.Get("/people", append(m, h.people)...)                                            // the Society's accounts and invitations
	r.Post("/people/invite", append(m, h.checkCSRF, h.invite)...)                       // invite a colleague by e-mail (a link good for 72 h)
	r.Post("/people/policy", append(m, h.checkCSRF, h.setPolicy)...)                    // require a second factor of every account
	r.Post("/people/invitations/:id/revoke", append(m, h.checkCSRF, h.revokeInvite)...) // withdraw a pending invitation
	r.Get("/people/:id", append(m, h.person)...)                                        // one account
	r.Post("/people/:id/role", append(m, h.checkCSRF, h.setRole)...)                    // its role and page-editor permission
	r.Post("/people/:id/disable", append(m, h.checkCSRF, h.disable)...)                 // disable it; its sessions end
	r.Post("/people/:id/enable", append(m, h.checkCSRF, h.enable)...)                   // enable it again
	r.Post("/people/:id/reset-totp", append(m, h.checkCSRF, h.resetTOTP)...)            // remove a lost second factor; its sessions end
	r.Get("/invite/:token", h.inviteForm)                                               // the invitee: choose a password
	r.Post("/invite/:token", h.checkLoginCSRF, h.acceptInvite)                          // open the account, once
}

// requireManager lets through administrators and Society administrators.
func (h *Handler) requireManager(c *fiber.Ctx) error {
	if u, _ := User(c); !u.Admin() && !u.SocietyAdmin() {
		return web.NotFound()
	}
	return c.Next()
}

// PeopleData is the data of the accounts page.
type PeopleData struct {
	Society     string // the Society shown ("" for an administrator's every account)
	SocietyName string
	Accounts    []store.Staff
	Invitations []store.Invitation
	Required    bool // the Society requires a second factor
	Now         time.Time
	Form        InviteForm
	Problem     string
	Sent        string // the address just invited
}

// InviteForm is an invitation as typed. Language is the URL code of the
// language of the e-mail and of the invitee's first pages.
type InviteForm struct {
	Email, Society, Role, Language string
	PageEditor                     bool
}

// managed is the Society whose accounts the request is about: a Society
// administrator's own, whatever was asked; for an administrator, the
// society form or query value ("" for all).
func managed(c *fiber.Ctx, u store.Staff) string {
	if !u.Admin() {
		return u.SocietyCode()
	}
	s := c.FormValue("society")
	if s == "" {
		s = c.Query("society")
	}
	return strings.ToLower(strings.TrimSpace(s))
}

func (h *Handler) people(c *fiber.Ctx) error {
	u, _ := User(c)
	return h.renderPeople(c, u, managed(c, u), fiber.StatusOK, h.blankInvite(c), "", "")
}

// blankInvite is an empty invitation form: a caseworker, in the language
// of the page.
func (h *Handler) blankInvite(c *fiber.Ctx) InviteForm {
	return InviteForm{Role: store.RoleCaseworker, Language: h.staffLang(c).Code}
}

func (h *Handler) renderPeople(c *fiber.Ctx, u store.Staff, society string, status int, f InviteForm, problem, sent string) error {
	ctx := c.UserContext()
	d := PeopleData{Society: society, SocietyName: h.societyName(society), Now: time.Now(), Form: f, Problem: problem, Sent: sent}
	var err error
	if d.Accounts, err = h.store.StaffOf(ctx, society); err != nil {
		return err
	}
	if d.Invitations, err = h.store.Invitations(ctx, society, 50); err != nil {
		return err
	}
	if society != "" {
		if d.Required, err = h.store.SocietyRequiresTOTP(ctx, society); err != nil {
			return err
		}
	}
	if err := h.store.Audit(ctx, store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: u.Society, Action: "people.view",
		ObjectType: "society", ObjectID: society, IP: h.clientIP(c)}); err != nil {
		return err
	}
	p := h.page(c, "StaffTitlePeople")
	p.Data = d
	return h.render(c, status, "staff/people", p)
}

// knownSociety reports whether code is a Society's inbox (a country with a
// National Society, or the ICRC's).
func (h *Handler) knownSociety(code string) bool {
	if code == "icrc" || strings.HasPrefix(code, "icrc-") {
		return true
	}
	cn, ok := h.data.Country(code)
	return ok && cn.Society != nil
}

// Message IDs of the accounts pages (staff.en.toml).
const (
	msgInviteEmail   = "StaffInviteEmail"
	msgInviteSociety = "StaffInviteSociety"
	msgInviteRole    = "StaffInviteRole"
	msgInviteExists  = "StaffInviteExists"
	msgSelf          = "StaffSelf"
	msgInviteGone    = "StaffInviteGone"
	msgInviteExpired = "StaffInviteExpired"
)

// invite stores an invitation and queues its e-mail. Only an administrator
// may invite a Society administrator.
func (h *Handler) invite(c *fiber.Ctx) error {
	u, _ := User(c)
	f := InviteForm{
		Email:   strings.ToLower(strings.TrimSpace(utils.CopyString(c.FormValue("email")))),
		Society: managed(c, u), Role: utils.CopyString(c.FormValue("role")), PageEditor: c.FormValue("page_editor") == "yes",
		Language: utils.CopyString(c.FormValue("language")),
	}
	if _, ok := h.kit.Catalog.StaffLanguage(f.Language); !ok {
		f.Language = h.staffLang(c).Code
	}
	problem := ""
	if a, err := mail.ParseAddress(f.Email); err != nil || a.Address != f.Email || len(f.Email) > 254 {
		problem = msgInviteEmail
	} else if !h.knownSociety(f.Society) {
		problem = msgInviteSociety
	} else if f.Role != store.RoleCaseworker && !(f.Role == store.RoleSocietyAdmin && u.Admin()) {
		problem = msgInviteRole
	}
	if problem != "" {
		return h.renderPeople(c, u, managed(c, u), fiber.StatusUnprocessableEntity, f, problem, "")
	}
	tok := token()
	inv, err := h.store.Invite(c.UserContext(), store.Invitation{Email: f.Email, Society: f.Society, Role: f.Role, PageEditor: f.PageEditor, InvitedBy: &u.ID}, tok,
		func(id int64) store.InviteMail {
			kid, sealed := h.keys.SealAt([]byte(tok), inviteBinding(id))
			return store.InviteMail{Invitation: id, Email: f.Email, Language: f.Language, KeyID: kid, Sealed: sealed}
		})
	if errors.Is(err, store.ErrDuplicate) {
		return h.renderPeople(c, u, managed(c, u), fiber.StatusConflict, f, msgInviteExists, "")
	}
	if err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: &inv.Society, Action: "staff.invite",
		ObjectType: "invitation", ObjectID: strconv.FormatInt(inv.ID, 10), IP: h.clientIP(c),
		Detail: map[string]any{"email": inv.Email, "role": inv.Role, "page_editor": inv.PageEditor}}); err != nil {
		return err
	}
	return h.renderPeople(c, u, managed(c, u), fiber.StatusOK, h.blankInvite(c), "", inv.Email)
}

func inviteBinding(id int64) crypt.Binding {
	return crypt.Binding{Table: "outbox", Column: store.TopicStaffInvite, Row: strconv.FormatInt(id, 10)}
}

func (h *Handler) revokeInvite(c *fiber.Ctx) error {
	u, _ := User(c)
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return web.NotFound()
	}
	society := managed(c, u)
	if !u.CanManage(society) {
		return web.NotFound()
	}
	if err := h.store.RevokeInvitation(c.UserContext(), id, society); errors.Is(err, store.ErrNotFound) {
		return web.NotFound()
	} else if err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: &society, Action: "staff.invite_revoked",
		ObjectType: "invitation", ObjectID: c.Params("id"), IP: h.clientIP(c)}); err != nil {
		return err
	}
	return c.Redirect("/staff/people?society="+society, fiber.StatusSeeOther)
}

func (h *Handler) setPolicy(c *fiber.Ctx) error {
	u, _ := User(c)
	society := managed(c, u)
	if !u.CanManage(society) || !h.knownSociety(society) {
		return web.NotFound()
	}
	on := c.FormValue("require_totp") == "yes"
	if err := h.store.SetSocietyRequiresTOTP(c.UserContext(), society, on); err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: &society, Action: "policy.require_totp",
		ObjectType: "society", ObjectID: society, IP: h.clientIP(c), Detail: map[string]any{"on": on}}); err != nil {
		return err
	}
	return c.Redirect("/staff/people?society="+society, fiber.StatusSeeOther)
}

// target is the account a /staff/people/:id request is about, if the
// signed-in account may manage it; another Society's, an administrator's
// (for a Society administrator) and one's own are not found.
func (h *Handler) target(c *fiber.Ctx) (store.Staff, store.Staff, error) {
	u, _ := User(c)
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return u, store.Staff{}, web.NotFound()
	}
	t, err := h.store.StaffByID(c.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!u.CanManage(t.SocietyCode()) || (t.Admin() && !u.Admin()))) {
		return u, store.Staff{}, web.NotFound()
	}
	return u, t, err
}

// PersonData is the data of one account's page.
type PersonData struct {
	Account     store.Staff
	SocietyName string
	Self        bool
	Problem     string
}

func (h *Handler) person(c *fiber.Ctx) error {
	u, t, err := h.target(c)
	if err != nil {
		return err
	}
	return h.renderPerson(c, u, t, fiber.StatusOK, "")
}

func (h *Handler) renderPerson(c *fiber.Ctx, u, t store.Staff, status int, problem string) error {
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: t.Society, Action: "people.view",
		ObjectType: "staff", ObjectID: t.Email, IP: h.clientIP(c)}); err != nil {
		return err
	}
	p := h.page(c, "StaffTitlePerson", "Email", t.Email)
	p.Data = PersonData{Account: t, SocietyName: h.societyName(t.SocietyCode()), Self: t.ID == u.ID, Problem: problem}
	return h.render(c, status, "staff/person", p)
}

// change runs one change to another account, audits it and goes back to
// its page; nobody changes their own account here.
func (h *Handler) change(c *fiber.Ctx, action string, detail map[string]any, fn func(ctx context.Context, t store.Staff) error) error {
	u, t, err := h.target(c)
	if err != nil {
		return err
	}
	if t.ID == u.ID {
		return h.renderPerson(c, u, t, fiber.StatusConflict, msgSelf)
	}
	if err := fn(c.UserContext(), t); err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: t.Society, Action: action,
		ObjectType: "staff", ObjectID: t.Email, IP: h.clientIP(c), Detail: detail}); err != nil {
		return err
	}
	return c.Redirect("/staff/people/"+strconv.FormatInt(t.ID, 10), fiber.StatusSeeOther)
}

func (h *Handler) setRole(c *fiber.Ctx) error {
	u, _ := User(c)
	role, editor := c.FormValue("role"), c.FormValue("page_editor") == "yes"
	if role != store.RoleCaseworker && !(role == store.RoleSocietyAdmin && u.Admin()) {
		_, t, err := h.target(c)
		if err != nil {
			return err
		}
		if !u.Admin() && role == store.RoleSocietyAdmin {
			return h.renderPerson(c, u, t, fiber.StatusForbidden, msgInviteRole)
		}
		return h.renderPerson(c, u, t, fiber.StatusUnprocessableEntity, msgInviteRole)
	}
	return h.change(c, "staff.role", map[string]any{"role": role, "page_editor": editor}, func(ctx context.Context, t store.Staff) error {
		if t.Admin() || (t.SocietyAdmin() && !u.Admin()) {
			// A Society administrator's role is the Movement's to change.
			if role != t.Role {
				return web.Forbidden(errors.New("staff: only an administrator changes a Society administrator's role"))
			}
		}
		return h.store.SetRole(ctx, t.ID, role, editor)
	})
}

func (h *Handler) disable(c *fiber.Ctx) error {
	return h.change(c, "staff.disable", nil, func(ctx context.Context, t store.Staff) error { return h.store.DisableStaff(ctx, t.Email) })
}

func (h *Handler) enable(c *fiber.Ctx) error {
	return h.change(c, "staff.enable", nil, func(ctx context.Context, t store.Staff) error { return h.store.EnableStaff(ctx, t.ID) })
}

func (h *Handler) resetTOTP(c *fiber.Ctx) error {
	return h.change(c, "totp.reset", nil, func(ctx context.Context, t store.Staff) error { return h.store.ResetTOTP(ctx, t.ID) })
}

// InviteData is the data of the invitation page.
type InviteData struct {
	Invitation  store.Invitation
	SocietyName string
	Token       string
}

// invitation reads the invitation of the link; it answers the page
// itself (404, or 410 with why) when the link cannot be used.
func (h *Handler) invitation(c *fiber.Ctx) (store.Invitation, bool, error) {
	inv, err := h.store.InvitationByToken(c.UserContext(), c.Params("token"))
	if errors.Is(err, store.ErrNotFound) {
		return inv, false, web.NotFound()
	}
	if err != nil {
		return inv, false, err
	}
	if inv.Pending(time.Now()) {
		return inv, true, nil
	}
	p := h.page(c, "StaffTitleInvitation")
	p.Error = msgInviteGone
	if inv.AcceptedAt == nil && inv.RevokedAt == nil {
		p.Error = msgInviteExpired
	}
	return inv, false, h.render(c, fiber.StatusGone, "staff/invite", p)
}

func (h *Handler) inviteForm(c *fiber.Ctx) error {
	if _, ok := User(c); ok {
		// Signed in already (perhaps as someone else on a shared computer).
		return c.Redirect("/staff/", fiber.StatusSeeOther)
	}
	// The e-mail's link names the language it was written in (?lang=ar).
	if c.Query("lang") != "" {
		return h.chooseLanguage(c, "/staff/invite/"+url.PathEscape(c.Params("token")))
	}
	inv, ok, err := h.invitation(c)
	if !ok {
		return err
	}
	p := h.page(c, "StaffTitleInvitation")
	p.CSRF = h.loginCSRF().Token(c)
	p.Data = InviteData{Invitation: inv, SocietyName: h.societyName(inv.Society), Token: c.Params("token")}
	return h.render(c, fiber.StatusOK, "staff/invite", p)
}

// acceptInvite opens the invited account with the password chosen, spends
// the link and signs the new account in; it then sets up its second
// factor if its role or Society needs one.
func (h *Handler) acceptInvite(c *fiber.Ctx) error {
	inv, ok, err := h.invitation(c)
	if !ok {
		return err
	}
	next, confirm := c.FormValue("new"), c.FormValue("confirm")
	p := h.page(c, "StaffTitleInvitation")
	p.CSRF = h.loginCSRF().Token(c)
	p.Data = InviteData{Invitation: inv, SocietyName: h.societyName(inv.Society), Token: c.Params("token")}
	if p.Error = newPasswordProblem(next, confirm); p.Error != "" {
		return h.render(c, fiber.StatusUnprocessableEntity, "staff/invite", p)
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	// The new account keeps the language its invitation page was in.
	st, inv, err := h.store.AcceptInvitation(c.UserContext(), utils.CopyString(c.Params("token")), hash, h.staffLang(c).Code)
	switch {
	case errors.Is(err, store.ErrInvitationUsed), errors.Is(err, store.ErrInvitationExpired), errors.Is(err, store.ErrDuplicate):
		p.Error = msgInviteGone
		if errors.Is(err, store.ErrInvitationExpired) {
			p.Error = msgInviteExpired
		}
		p.Data = nil
		return h.render(c, fiber.StatusGone, "staff/invite", p)
	case errors.Is(err, store.ErrNotFound):
		return web.NotFound()
	case err != nil:
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &st.ID, Actor: st.Email, Society: st.Society, Action: "staff.invite_accepted",
		ObjectType: "invitation", ObjectID: strconv.FormatInt(inv.ID, 10), IP: h.clientIP(c)}); err != nil {
		return err
	}
	if err := h.startSession(c, st); err != nil {
		return err
	}
	return c.Redirect("/staff/", fiber.StatusSeeOther)
}

// InviteHandler sends the invitations Invite queues, in the language the
// inviter chose. The e-mail holds the link and nothing personal: not the
// inviter, nor the Society's people.
func InviteHandler(cat *locales.Catalog, keys *crypt.Keyring, mailer notify.Mailer, baseURL string, log *slog.Logger) store.OutboxHandler {
	return func(ctx context.Context, m store.OutboxMessage) error {
		var im store.InviteMail
		if err := json.Unmarshal(m.Payload, &im); err != nil {
			return fmt.Errorf("staff: invitation: %w", err)
		}
		tok, err := keys.OpenAt(im.KeyID, im.Sealed, inviteBinding(im.Invitation))
		if err != nil {
			// The key that sealed it is gone: the link cannot be sent.
			log.Error("staff: an invitation's link cannot be opened; invite again", "invitation", im.Invitation, "err", err)
			return nil
		}
		tr := cat.StaffTranslator(im.Language)
		link := baseURL + "/staff/invite/" + string(tok) + "?lang=" + tr.Language().Code
		return mailer.Send(ctx, notify.Message{To: im.Email, Subject: tr.T("StaffInviteMailSubject"), Body: tr.T("StaffInviteMailBody", "Link", link)})
	}
}
