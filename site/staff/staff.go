// Package staff is the back office: login, logout, sessions, CSRF, the
// dashboard, and the rule that a caseworker sees only their own Society.
package staff

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// Session and throttling limits.
const (
	// IdleTimeout ends a session after this long without a request.
	IdleTimeout = time.Hour
	// MaxSessionAge ends a session this long after sign-in, however busy:
	// a stolen cookie does not live for ever.
	MaxSessionAge = 12 * time.Hour
	// LoginFormTTL is how long a login form's CSRF token stays good.
	LoginFormTTL     = 30 * time.Minute
	LoginWindow      = 15 * time.Minute
	MaxFailsPerEmail = 5
	MaxFailsPerIP    = 20
)

// sessionLimits are the two lifetimes of every session.
var sessionLimits = store.SessionLimits{Idle: IdleTimeout, Absolute: MaxSessionAge}

// Handler serves /staff/….
type Handler struct {
	kit    *web.Kit
	store  *store.Store
	data   *content.Data
	keys   *crypt.Keyring
	cookie string
	// csrf is the site's signed double-submit CSRF; loginCSRF uses it for
	// the login form, before any session exists.
	csrf *web.CSRF
	// cards is told when this replica publishes or confirms a card (the
	// others hear of it through PostgreSQL).
	cards *cards.Directory
}

// New returns the back office handler. csrf is the site's signed
// double-submit CSRF (its secret shared by every replica); the login form
// uses it with a short lifetime. dir is the public pages' copy of the
// published cards (may be nil).
func New(kit *web.Kit, st *store.Store, data *content.Data, keys *crypt.Keyring, csrf *web.CSRF, dir *cards.Directory) *Handler {
	name := "fl_session"
	if kit.SecureCookies {
		// __Host- cookies must be Secure, host-only and Path=/.
		name = "__Host-fl_session"
	}
	return &Handler{kit: kit, store: st, data: data, keys: keys, cookie: name, csrf: csrf, cards: dir}
}

// loginCSRF protects the login form: a signed double-submit token (a
// nonce in a __Host- cookie, signed in the form) good for LoginFormTTL, so
// an anonymous GET /staff/login writes nothing anywhere. It is made from
// the site's CSRF at each use, so it always has that one's secret.
func (h *Handler) loginCSRF() *web.CSRF {
	return &web.CSRF{Secret: h.csrf.Secret, Secure: h.csrf.Secure, MaxAge: LoginFormTTL}
}

// Register registers the back office. Every route answers only to a
// logged-in account except the login form; every POST checks CSRF.
func (h *Handler) Register(app *fiber.App) {
	r := app.Group("/staff", h.noStore, h.loadSession)
	r.Get("/login", h.loginForm)                                                       // the login form, its CSRF token a signed cookie (no row)
	r.Post("/login", h.checkLoginCSRF, h.login)                                        // count the attempt, check the password, start a session
	r.Get("/login/code", h.codeForm)                                                   // the second step of a sign-in: a TOTP or recovery code
	r.Post("/login/code", h.checkLoginCSRF, h.code)                                    // count the attempt, check the code, start a session
	r.Post("/logout", h.checkCSRF, h.logout)                                           // end the session
	r.Get("/password", h.requireLogin, h.passwordForm)                                 // choose a new password (forced after a one-time one)
	r.Post("/password", h.requireLogin, h.checkCSRF, h.changePassword)                 // check the old one, store the new, rotate the session
	r.Get("/totp", h.requireLogin, h.totpPage)                                         // the account's second factor: set it up, or its recovery codes
	r.Get("/totp/qr.png", h.requireLogin, h.totpQR)                                    // the QR code of a secret being set up (never once it is on)
	r.Post("/totp", h.requireLogin, h.checkCSRF, h.totpEnable)                         // confirm the set-up with a first code; show the recovery codes once
	r.Post("/totp/recovery", h.requireLogin, h.checkCSRF, h.totpRecovery)              // new recovery codes, after a current code
	r.Post("/totp/off", h.requireLogin, h.checkCSRF, h.totpOff)                        // turn it off, after a current code, when not required
	r.Get("/", h.requireStaff, h.dashboard)                                            // the signed-in account's home
	r.Get("/profile", h.requireStaff, h.profile)                                       // the account's own settings: the back office's language
	r.Post("/profile", h.requireStaff, h.checkCSRF, h.saveProfile)                     // store the language with the account (audited)
	r.Get("/enquiries", h.requireStaff, h.enquiries)                                   // the inbox: newest first, by status
	r.Get("/enquiries/:ref", h.requireStaff, h.enquiry)                                // one enquiry, decrypted; the view is audited
	r.Post("/enquiries/:ref/notes", h.requireStaff, h.checkCSRF, h.addNote)            // an internal note
	r.Post("/enquiries/:ref/status", h.requireStaff, h.checkCSRF, h.setStatus)         // new → in progress → closed, with an outcome
	r.Post("/enquiries/:ref/transfer", h.requireStaff, h.checkCSRF, h.transfer)        // to another inbox, with a reason
	r.Get("/inboxes", h.requireStaff, h.requireAdmin, h.inboxes)                       // administrators: every inbox's settings
	r.Post("/inboxes/:code", h.requireStaff, h.requireAdmin, h.checkCSRF, h.saveInbox) // administrators: notification address, switch
	r.Get("/audit", h.requireStaff, h.requireManager, h.auditPage)                     // administrators (a Society's: its own entries): the audit trail, filtered, newest first
	r.Get("/audit.csv", h.requireStaff, h.requireManager, h.auditCSV)                  // the same, as CSV (the export is audited)
	h.registerPeople(r)                                                                // /staff/people…, /staff/invite/…: accounts, invitations, the Society's rules
	h.registerGallery(r)                                                               // /staff/gallery…: Trace the Face publishing
	h.registerCards(r)                                                                 // /staff/cards/{society}…: the Society's contact card
}

const (
	localSession = "staff.session"
	localToken   = "staff.token"
	localUser    = "staff.user"
)

func (h *Handler) noStore(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Robots-Tag", "noindex, nofollow")
	return c.Next()
}

// loadSession puts the session named by the cookie, and its account when
// logged in and enabled, on the request.
func (h *Handler) loadSession(c *fiber.Ctx) error {
	tok := c.Cookies(h.cookie)
	if tok == "" {
		return c.Next()
	}
	tok = utils.CopyString(tok)
	ctx := c.UserContext()
	sess, err := h.store.SessionByToken(ctx, tok, sessionLimits)
	if errors.Is(err, store.ErrNotFound) {
		return c.Next()
	}
	if err != nil {
		return err
	}
	c.Locals(localSession, sess)
	c.Locals(localToken, tok)
	st, err := h.store.StaffByID(ctx, sess.StaffID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err == nil && st.DisabledAt == nil {
		c.Locals(localUser, st)
	}
	return c.Next()
}

// User returns the logged-in account, if any.
func User(c *fiber.Ctx) (store.Staff, bool) {
	st, ok := c.Locals(localUser).(store.Staff)
	return st, ok
}

func session(c *fiber.Ctx) (store.Session, string, bool) {
	s, ok := c.Locals(localSession).(store.Session)
	tok, _ := c.Locals(localToken).(string)
	return s, tok, ok
}

// requireLogin lets through any logged-in, enabled account.
func (h *Handler) requireLogin(c *fiber.Ctx) error {
	if _, ok := User(c); !ok {
		return c.Redirect("/staff/login", fiber.StatusSeeOther)
	}
	return c.Next()
}

// requireStaff is requireLogin, and an account still on its one-time
// password is sent to choose its own first.
func (h *Handler) requireStaff(c *fiber.Ctx) error {
	u, ok := User(c)
	if !ok {
		return c.Redirect("/staff/login", fiber.StatusSeeOther)
	}
	if u.MustChange {
		return c.Redirect("/staff/password", fiber.StatusSeeOther)
	}
	if u.NeedsTOTP() && u.TOTPEnabledAt == nil {
		return c.Redirect("/staff/totp", fiber.StatusSeeOther)
	}
	return c.Next()
}

// checkCSRF compares the form's token with the session's (synchronizer
// token pattern). A POST without a session or with a wrong token is refused.
// The login form, which has no session yet, uses checkLoginCSRF.
func (h *Handler) checkCSRF(c *fiber.Ctx) error {
	sess, _, ok := session(c)
	if !ok || sess.CSRFToken == "" || subtle.ConstantTimeCompare([]byte(c.FormValue("_csrf")), []byte(sess.CSRFToken)) != 1 {
		return web.Forbidden(errors.New("staff: missing or wrong CSRF token"))
	}
	return c.Next()
}

// checkLoginCSRF checks the login form's signed double-submit token.
func (h *Handler) checkLoginCSRF(c *fiber.Ctx) error {
	if err := h.loginCSRF().Check(c); err != nil {
		return web.Forbidden(fmt.Errorf("staff: login form: %w", err))
	}
	return c.Next()
}

// setCookie sets the session cookie with neither Max-Age nor Expires: it
// dies with the browser. The server ends the session anyway, after
// IdleTimeout idle or MaxSessionAge in all.
func (h *Handler) setCookie(c *fiber.Ctx, tok string) {
	c.Cookie(&fiber.Cookie{
		Name: h.cookie, Value: tok, Path: "/", SessionOnly: true,
		Secure: h.kit.SecureCookies, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

func (h *Handler) clearCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: h.cookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
		Secure: h.kit.SecureCookies, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// Page is the data of a back-office page.
type Page struct {
	Title   string
	Assets  web.Assets
	CSRF    string
	User    *store.Staff
	Society string // the account's Society, named
	Email   string // what was typed in the login form
	// Error is the message ID of what went wrong, shown translated.
	Error string
	Data  any // the page's own data
	// Lang is the page's language: the account's, or before sign-in the
	// one negotiated (staffLang); Tr is its translator.
	Lang locales.Language
	Tr   *locales.Translator
	// Langs are the back office's languages, for the login page's switch
	// and the profile page.
	Langs []locales.Language
}

// T localizes a back-office message for the page's language. Text put into
// the sentence (a reference, a name, an address) is isolated with FSI…PDI,
// so that it keeps its own direction, as on the public pages.
func (p Page) T(id string, pairs ...any) string {
	if id == "" {
		return ""
	}
	pairs = append([]any(nil), pairs...)
	for i := 1; i < len(pairs); i += 2 {
		if s, ok := pairs[i].(string); ok && s != "" && !strings.HasPrefix(s, "\u2068") {
			pairs[i] = web.Isolate(s)
		}
	}
	return p.Tr.T(id, pairs...)
}

// N localizes a plural back-office message for count n.
func (p Page) N(id string, n int, pairs ...any) string { return p.Tr.N(id, n, pairs...) }

// page starts a page's data; titleID is the message ID of its title, with
// its template-data pairs.
func (h *Handler) page(c *fiber.Ctx, titleID string, pairs ...any) Page {
	p := Page{Assets: h.kit.Assets, Langs: h.kit.Catalog.StaffLanguages()}
	if s, _, ok := session(c); ok {
		p.CSRF = s.CSRFToken
	}
	if u, ok := User(c); ok {
		p.User = &u
		p.Society = h.societyName(u.SocietyCode())
	}
	p.Lang = h.staffLang(c)
	p.Tr = h.kit.Catalog.Translator(p.Lang.Code)
	p.Title = p.T(titleID, pairs...)
	return p
}

// staffLang is the language of a back-office page: the signed-in account's
// (English if the back office does not speak it); before sign-in the
// language cookie, then Accept-Language, among the back office's languages.
func (h *Handler) staffLang(c *fiber.Ctx) locales.Language {
	cat := h.kit.Catalog
	if u, ok := User(c); ok {
		if l, ok := cat.StaffLanguage(u.Language); ok {
			return l
		}
		return cat.StaffLanguages()[0]
	}
	return cat.NegotiateStaff(web.LangCookie(c), c.Get(fiber.HeaderAcceptLanguage))
}

// tr is the translator of the request's back-office language, for text a
// handler writes before it has a Page.
func (h *Handler) tr(c *fiber.Ctx) *locales.Translator {
	return h.kit.Catalog.Translator(h.staffLang(c).Code)
}

func (h *Handler) societyName(code string) string {
	if code == "" {
		return ""
	}
	if cn, ok := h.data.Country(code); ok && cn.Society != nil {
		return cn.Society.NameEN
	}
	return strings.ToUpper(code)
}

func (h *Handler) render(c *fiber.Ctx, status int, view string, p Page) error {
	b, err := h.kit.Views.Execute(view, p)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(b)
}

// chooseLanguage remembers the language a link names (?lang=…, one the
// back office speaks) in the cookie, and sends the browser on to the same
// page without it.
func (h *Handler) chooseLanguage(c *fiber.Ctx, clean string) error {
	if l, ok := h.kit.Catalog.StaffLanguage(c.Query("lang")); ok {
		h.kit.SetLangCookie(c, l.Code)
	}
	return c.Redirect(clean, fiber.StatusSeeOther)
}

func (h *Handler) loginForm(c *fiber.Ctx) error {
	if _, ok := User(c); ok {
		return c.Redirect("/staff/", fiber.StatusSeeOther)
	}
	// The language switch (?lang=fr).
	if c.Query("lang") != "" {
		return h.chooseLanguage(c, "/staff/login")
	}
	return h.render(c, fiber.StatusOK, "staff/login", h.loginPage(c, ""))
}

// loginPage is the login form's data, with a fresh CSRF token.
func (h *Handler) loginPage(c *fiber.Ctx, email string) Page {
	p := h.page(c, "StaffTitleSignIn")
	p.CSRF = h.loginCSRF().Token(c)
	p.Email = email
	return p
}

func (h *Handler) clientIP(c *fiber.Ctx) *netip.Addr {
	a, err := netip.ParseAddr(c.IP())
	if err != nil {
		return nil
	}
	return &a
}

// Message IDs of the login form (staff.en.toml).
const (
	msgLoginWrong     = "StaffLoginWrong"
	msgLoginThrottled = "StaffLoginThrottled"
	msgOneTimeExpired = "StaffOneTimeExpired"
)

// countAttempt counts a sign-in attempt (a password or a code) against the
// account's and the client address's limits, before it is checked, and
// reports whether either limit is passed; then it has set Retry-After. One
// audit line (throttled) is written when a limit is first passed, not one
// per refused attempt: a flood must not grow the audit log.
func (h *Handler) countAttempt(c *fiber.Ctx, acctKey, ipKey string, throttled store.AuditEntry) (bool, error) {
	ctx := c.UserContext()
	byEmail, _, err := h.store.Hit(ctx, acctKey, LoginWindow)
	if err != nil {
		return false, err
	}
	byIP, _, err := h.store.Hit(ctx, ipKey, LoginWindow)
	if err != nil {
		return false, err
	}
	if byEmail <= MaxFailsPerEmail && byIP <= MaxFailsPerIP {
		return false, nil
	}
	if byEmail == MaxFailsPerEmail+1 || byIP == MaxFailsPerIP+1 {
		if err := h.store.Audit(ctx, throttled); err != nil {
			return true, err
		}
	}
	c.Set(fiber.HeaderRetryAfter, "900")
	return true, nil
}

// attemptRight forgets a counted attempt that was right: the account
// starts afresh, and the address gets its attempt back (only failures
// count against an office's shared address).
func (h *Handler) attemptRight(c *fiber.Ctx, acctKey, ipKey string) error {
	if err := h.store.ResetHits(c.UserContext(), acctKey); err != nil {
		return err
	}
	return h.store.Unhit(c.UserContext(), ipKey)
}

// attemptKeys are the rate-limit keys of a sign-in attempt for an address
// typed or an account's: the account's and the client address's.
func attemptKeys(c *fiber.Ctx, email string) (acctKey, ipKey string) {
	return "login:email:" + email, "login:ip:" + web.ClientKey(c)
}

// login signs an account in, in steps: count the attempt, check the
// password, then passwordVerified. The attempt is counted, per account and
// per client address, before the password is checked, so that guesses sent
// in parallel cannot all be checked before the first one is counted.
func (h *Handler) login(c *fiber.Ctx) error {
	ctx := c.UserContext()
	email := strings.ToLower(strings.TrimSpace(utils.CopyString(c.FormValue("email"))))
	password := c.FormValue("password")
	ip := h.clientIP(c)
	acctKey, ipKey := attemptKeys(c, email)
	p := h.loginPage(c, email)

	if throttled, err := h.countAttempt(c, acctKey, ipKey, store.AuditEntry{Actor: email, Action: "login.throttled", IP: ip}); err != nil {
		return err
	} else if throttled {
		p.Error = msgLoginThrottled
		return h.render(c, fiber.StatusTooManyRequests, "staff/login", p)
	}

	st, err := h.store.StaffByEmail(ctx, email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	ok := false
	if err == nil {
		ok, err = VerifyPassword(st.PasswordHash, password)
		if err != nil {
			return err
		}
		ok = ok && st.DisabledAt == nil
	} else {
		// Spend the same time on an unknown address as on a known one.
		if _, err := VerifyPassword(dummyHash(), password); errors.Is(err, ErrBusy) {
			return err
		}
	}
	var staffID *int64
	if st.ID != 0 {
		staffID = &st.ID
	}
	if ok && st.OneTimeExpired(time.Now()) {
		// Said only to whoever knows the password: it tells nothing to a
		// guesser. The attempt stays counted.
		if err := h.store.Audit(ctx, store.AuditEntry{StaffID: staffID, Actor: email, Action: "login.expired", IP: ip}); err != nil {
			return err
		}
		p.Error = msgOneTimeExpired
		return h.render(c, fiber.StatusUnauthorized, "staff/login", p)
	}
	if !ok {
		if err := h.store.Audit(ctx, store.AuditEntry{StaffID: staffID, Actor: email, Action: "login.failed", IP: ip}); err != nil {
			return err
		}
		p.Error = msgLoginWrong
		return h.render(c, fiber.StatusUnauthorized, "staff/login", p)
	}
	if err := h.attemptRight(c, acctKey, ipKey); err != nil {
		return err
	}
	return h.passwordVerified(c, st)
}

// passwordVerified finishes a sign-in whose password was right. An account
// with a second factor gets a short-lived signed "password right, code
// pending" cookie for its current session epoch and the code form; the
// session starts only after the code (see code). Because the epoch is
// checked again there, a password change between the two steps voids the
// pending sign-in.
func (h *Handler) passwordVerified(c *fiber.Ctx, st store.Staff) error {
	if st.TOTPEnabledAt != nil {
		h.setPending(c, st)
		return c.Redirect("/staff/login/code", fiber.StatusSeeOther)
	}
	if err := h.startSession(c, st); errors.Is(err, store.ErrStaleCredentials) {
		// The password was changed, or the account disabled, while this
		// sign-in was being checked.
		p := h.loginPage(c, st.Email)
		p.Error = msgLoginWrong
		return h.render(c, fiber.StatusUnauthorized, "staff/login", p)
	} else if err != nil {
		return err
	}
	if err := h.store.Audit(c.UserContext(), store.AuditEntry{StaffID: &st.ID, Actor: st.Email, Society: st.Society, Action: "login", IP: h.clientIP(c)}); err != nil {
		return err
	}
	return c.Redirect("/staff/", fiber.StatusSeeOther)
}

// startSession gives the browser a new session for st (as read when its
// password was checked) and ends the one it had: a session id is never
// carried across a sign-in or a password change.
func (h *Handler) startSession(c *fiber.Ctx, st store.Staff) error {
	_, old, _ := session(c)
	tok, csrf := token(), token()
	if err := h.store.StartSession(c.UserContext(), old, tok, st, csrf, sessionLimits); err != nil {
		return err
	}
	h.setCookie(c, tok)
	return nil
}

func (h *Handler) logout(c *fiber.Ctx) error {
	ctx := c.UserContext()
	_, tok, _ := session(c)
	if u, ok := User(c); ok {
		if err := h.store.Audit(ctx, store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: u.Society, Action: "logout", IP: h.clientIP(c)}); err != nil {
			return err
		}
	}
	if err := h.store.DeleteSession(ctx, tok); err != nil {
		return err
	}
	h.clearCookie(c)
	return c.Redirect("/staff/login", fiber.StatusSeeOther)
}

func (h *Handler) dashboard(c *fiber.Ctx) error {
	u, _ := User(c)
	if err := h.audit(c.UserContext(), u, "dashboard.view", h.clientIP(c)); err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, "staff/dashboard", h.page(c, "StaffTitleDashboard"))
}

func (h *Handler) audit(ctx context.Context, u store.Staff, action string, ip *netip.Addr) error {
	return h.store.Audit(ctx, store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: u.Society, Action: action, IP: ip})
}

func (h *Handler) passwordForm(c *fiber.Ctx) error {
	p := h.page(c, "StaffTitlePassword")
	if u, _ := User(c); u.MustChange {
		p.Error = "StaffPasswordOneTime"
	}
	return h.render(c, fiber.StatusOK, "staff/password", p)
}

func (h *Handler) changePassword(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u, _ := User(c)
	current, next, confirm := c.FormValue("current"), c.FormValue("new"), c.FormValue("confirm")
	p := h.page(c, "StaffTitlePassword")
	// The current password is a guess like a sign-in's, counted against
	// the same limit before it is checked: a stolen session must not be a
	// way round the throttle.
	acctKey := "login:email:" + u.Email
	n, _, err := h.store.Hit(ctx, acctKey, LoginWindow)
	if err != nil {
		return err
	}
	if n > MaxFailsPerEmail {
		c.Set(fiber.HeaderRetryAfter, "900")
		p.Error = msgLoginThrottled
		return h.render(c, fiber.StatusTooManyRequests, "staff/password", p)
	}
	ok, err := VerifyPassword(u.PasswordHash, current)
	if err != nil {
		return err
	}
	if ok {
		if err := h.store.ResetHits(ctx, acctKey); err != nil {
			return err
		}
	}
	switch {
	case !ok:
		p.Error = "StaffPasswordCurrentWrong"
	case next == current:
		p.Error = "StaffPasswordSame"
	default:
		p.Error = newPasswordProblem(next, confirm)
	}
	if p.Error != "" {
		return h.render(c, fiber.StatusUnprocessableEntity, "staff/password", p)
	}
	hash, err := HashPassword(next)
	if err != nil {
		return err
	}
	// Every session of the account ends with the old password, this one
	// too; this browser then gets a new one.
	st, err := h.store.SetPassword(ctx, u.ID, hash, false)
	if err != nil {
		return err
	}
	if err := h.audit(ctx, u, "password.change", h.clientIP(c)); err != nil {
		return err
	}
	if err := h.startSession(c, st); errors.Is(err, store.ErrStaleCredentials) {
		// Changed again, or disabled, meanwhile: sign in afresh.
		h.clearCookie(c)
		return c.Redirect("/staff/login", fiber.StatusSeeOther)
	} else if err != nil {
		return err
	}
	return c.Redirect("/staff/", fiber.StatusSeeOther)
}

var vocabularies = vocab.All()

// Word names a code of one of the vocabularies (content/vocab: "genders",
// "age groups", "relationships", "circumstances", "services") in the
// page's language, by the public catalogue's message; an unknown code is
// shown as it is.
func (p Page) Word(list, code string) string {
	if msg, ok := vocabularies[list].Message(code); ok {
		return p.Tr.T(msg)
	}
	return code
}
