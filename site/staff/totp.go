package staff

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/store"
)

// The second factor is TOTP (RFC 6238) as every authenticator app reads
// it: six digits, a 30-second step, HMAC-SHA1. A code is good one step
// either side of now (clocks drift), and once only.
const (
	totpIssuer = "Family Links"
	totpPeriod = 30
	// PendingTTL is how long a right password waits for its code.
	PendingTTL = 5 * time.Minute
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPStep returns the time step (of the three around now) whose code is
// code, if any.
func TOTPStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	for _, s := range []int64{cur - 1, cur, cur + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// TOTPCode is the code of secret at t (for tests and the dev tools).
func TOTPCode(secret string, t time.Time) string {
	c, _ := totp.GenerateCodeCustom(secret, t, totpOpts)
	return c
}

// newRecoveryCodes returns store.RecoveryCodes codes of 80 random bits
// each, written XXXX-XXXX-XXXX-XXXX.
func newRecoveryCodes() []string {
	out := make([]string, store.RecoveryCodes)
	for i := range out {
		b := make([]byte, 10)
		_, _ = rand.Read(b)
		s := base32.StdEncoding.EncodeToString(b)
		out[i] = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
	}
	return out
}

// normalRecovery is a typed recovery code as stored: upper case, without
// spaces or hyphens; "" when it cannot be one.
func normalRecovery(s string) string {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(s))
	if len(s) != 16 {
		return ""
	}
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// secretOf opens an account's TOTP secret.
func (h *Handler) secretOf(t store.TOTP, staffID int64) (string, error) {
	b, err := h.keys.OpenAt(t.KeyID, t.Sealed, crypt.StaffTOTP(strconv.FormatInt(staffID, 10)))
	if err != nil {
		return "", fmt.Errorf("staff: totp secret: %w", err)
	}
	return string(b), nil
}

// pendingCookie names the cookie that carries "password right, code
// pending" between the two steps of a sign-in.
func (h *Handler) pendingCookie() string {
	if h.kit.SecureCookies {
		return "__Host-fl_2fa"
	}
	return "fl_2fa"
}

func (h *Handler) signPending(payload string) string {
	m := hmac.New(sha256.New, h.csrf.Secret)
	m.Write([]byte("staff-2fa\x00" + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setPending hands the browser a signed, short-lived proof that st's
// password was right, for st's session epoch: a password change or reset
// in between voids it.
func (h *Handler) setPending(c *fiber.Ctx, st store.Staff) {
	payload := fmt.Sprintf("%d.%d.%d", st.ID, st.SessionEpoch, time.Now().Add(PendingTTL).Unix())
	c.Cookie(&fiber.Cookie{
		Name: h.pendingCookie(), Value: payload + "." + h.signPending(payload), Path: "/", MaxAge: int(PendingTTL.Seconds()),
		Secure: h.kit.SecureCookies, HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
	})
}

func (h *Handler) clearPending(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{
		Name: h.pendingCookie(), Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0),
		Secure: h.kit.SecureCookies, HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode,
	})
}

// pending returns the account whose password was right, if the cookie is
// good, unexpired, and the account still has that epoch, is enabled and
// has its second factor on.
func (h *Handler) pending(c *fiber.Ctx) (store.Staff, bool) {
	v := c.Cookies(h.pendingCookie())
	i := strings.LastIndexByte(v, '.')
	if i < 0 || !hmac.Equal([]byte(v[i+1:]), []byte(h.signPending(v[:i]))) {
		return store.Staff{}, false
	}
	var id, epoch, exp int64
	if _, err := fmt.Sscanf(v[:i], "%d.%d.%d", &id, &epoch, &exp); err != nil || time.Now().Unix() >= exp {
		return store.Staff{}, false
	}
	st, err := h.store.StaffByID(c.UserContext(), id)
	if err != nil || st.SessionEpoch != epoch || st.DisabledAt != nil || st.TOTPEnabledAt == nil {
		return store.Staff{}, false
	}
	return st, true
}

// Messages of the second factor.
const (
	msgCodeWrong     = "StaffCodeWrong"
	msgCodeExpired   = "StaffCodeExpired"
	msgEnrolWrong    = "StaffEnrolWrong"
	msgTOTPNeeded    = "StaffTOTPNeeded"
	msgRecoveryFew   = "StaffRecoveryFew"
	msgTOTPCannotOff = "StaffTOTPCannotOff"
)

// TOTPPage is the data of the second-factor pages.
type TOTPPage struct {
	Enabled  bool
	Required bool
	Secret   string   // while enrolling: the secret as text, in groups of four
	Codes    []string // just made: shown once
	Left     int64    // unused recovery codes
}

func (h *Handler) codeForm(c *fiber.Ctx) error {
	if _, ok := h.pending(c); !ok {
		return c.Redirect("/staff/login", fiber.StatusSeeOther)
	}
	p := h.page(c, "StaffTitleTOTP")
	p.CSRF = h.loginCSRF().Token(c)
	return h.render(c, fiber.StatusOK, "staff/login-code", p)
}

// code finishes a sign-in whose password was right with a TOTP code or a
// recovery code, counted against the same limits as passwords.
func (h *Handler) code(c *fiber.Ctx) error {
	ctx := c.UserContext()
	st, ok := h.pending(c)
	p := h.page(c, "StaffTitleTOTP")
	p.CSRF = h.loginCSRF().Token(c)
	if !ok {
		h.clearPending(c)
		lp := h.loginPage(c, "")
		lp.Error = msgCodeExpired
		return h.render(c, fiber.StatusUnauthorized, "staff/login", lp)
	}
	ip := h.clientIP(c)
	acctKey, ipKey := attemptKeys(c, st.Email)
	if throttled, err := h.countAttempt(c, acctKey, ipKey, store.AuditEntry{StaffID: &st.ID, Actor: st.Email, Society: st.Society, Action: "login.throttled", IP: ip}); err != nil {
		return err
	} else if throttled {
		p.Error = msgLoginThrottled
		return h.render(c, fiber.StatusTooManyRequests, "staff/login-code", p)
	}
	input := utils.CopyString(c.FormValue("code"))
	method, left, err := h.checkSecondFactor(c, st, input)
	if err != nil {
		return err
	}
	if method == "" {
		if err := h.store.Audit(ctx, store.AuditEntry{StaffID: &st.ID, Actor: st.Email, Society: st.Society, Action: "login.code_failed", IP: ip}); err != nil {
			return err
		}
		p.Error = msgCodeWrong
		return h.render(c, fiber.StatusUnauthorized, "staff/login-code", p)
	}
	if err := h.attemptRight(c, acctKey, ipKey); err != nil {
		return err
	}
	h.clearPending(c)
	if method == "recovery" {
		if err := h.store.Audit(ctx, store.AuditEntry{StaffID: &st.ID, Actor: st.Email, Society: st.Society, Action: "totp.recovery_used", IP: ip,
			Detail: map[string]any{"left": left}}); err != nil {
			return err
		}
	}
	if err := h.startSession(c, st); errors.Is(err, store.ErrStaleCredentials) {
		lp := h.loginPage(c, st.Email)
		lp.Error = msgLoginWrong
		return h.render(c, fiber.StatusUnauthorized, "staff/login", lp)
	} else if err != nil {
		return err
	}
	if err := h.store.Audit(ctx, store.AuditEntry{StaffID: &st.ID, Actor: st.Email, Society: st.Society, Action: "login", IP: ip,
		Detail: map[string]any{"second_factor": method}}); err != nil {
		return err
	}
	if method == "recovery" && left <= 3 {
		return c.Redirect("/staff/totp", fiber.StatusSeeOther)
	}
	return c.Redirect("/staff/", fiber.StatusSeeOther)
}

// checkSecondFactor checks a code typed by st: a TOTP code of the account's
// secret not used before, or an unused recovery code. It returns "totp",
// "recovery" or "" (wrong), and the recovery codes left after one is used.
func (h *Handler) checkSecondFactor(c *fiber.Ctx, st store.Staff, input string) (string, int64, error) {
	ctx := c.UserContext()
	t, err := h.store.TOTPOf(ctx, st.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.EnabledAt == nil) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	secret, err := h.secretOf(t, st.ID)
	if err != nil {
		return "", 0, err
	}
	if step, ok := TOTPStep(secret, input, time.Now()); ok {
		used, err := h.store.UseTOTPStep(ctx, st.ID, step)
		if err != nil || !used {
			return "", 0, err
		}
		return "totp", 0, nil
	}
	if rc := normalRecovery(input); rc != "" {
		ok, left, err := h.store.UseRecoveryCode(ctx, st.ID, rc)
		if err != nil || !ok {
			return "", 0, err
		}
		return "recovery", left, nil
	}
	return "", 0, nil
}

// totpPage shows the account's second factor: how to set it up (a QR code
// made here, and the secret as text), or that it is on, with the recovery
// codes left.
func (h *Handler) totpPage(c *fiber.Ctx) error {
	u, _ := User(c)
	if u.MustChange {
		return c.Redirect("/staff/password", fiber.StatusSeeOther)
	}
	ctx := c.UserContext()
	p := h.page(c, "StaffTitleTOTP")
	d := TOTPPage{Enabled: u.TOTPEnabledAt != nil, Required: u.NeedsTOTP()}
	if d.Enabled {
		n, err := h.store.RecoveryCodesLeft(ctx, u.ID)
		if err != nil {
			return err
		}
		d.Left = n
		if n <= 3 {
			p.Error = msgRecoveryFew
		}
		p.Data = d
		return h.render(c, fiber.StatusOK, "staff/totp", p)
	}
	secret, err := h.enrolling(c, u)
	if err != nil {
		return err
	}
	d.Secret = groups(secret)
	if d.Required {
		p.Error = msgTOTPNeeded
	}
	p.Data = d
	return h.render(c, fiber.StatusOK, "staff/totp", p)
}

// enrolling returns the secret being enrolled, making one if there is none.
// Reloading the page shows the same secret until a code confirms it.
func (h *Handler) enrolling(c *fiber.Ctx, u store.Staff) (string, error) {
	secret, err := h.enrollingSecret(c, u)
	if !errors.Is(err, store.ErrNotFound) {
		return secret, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: u.Email, Period: totpPeriod,
		SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", err
	}
	kid, sealed := h.keys.SealAt([]byte(key.Secret()), crypt.StaffTOTP(strconv.FormatInt(u.ID, 10)))
	if err := h.store.BeginTOTP(c.UserContext(), u.ID, kid, sealed); err != nil {
		return "", err
	}
	return key.Secret(), nil
}

// enrollingSecret opens the secret of a set-up no code has confirmed yet;
// store.ErrNotFound when there is none (or the second factor is on).
func (h *Handler) enrollingSecret(c *fiber.Ctx, u store.Staff) (string, error) {
	t, err := h.store.TOTPOf(c.UserContext(), u.ID)
	if err == nil && t.EnabledAt != nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	return h.secretOf(t, u.ID)
}

func groups(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// totpQR is the QR code of the secret being enrolled, made here as a PNG:
// no script, no request to anyone else. Once the second factor is on, the
// secret is never shown again.
func (h *Handler) totpQR(c *fiber.Ctx) error {
	u, _ := User(c)
	secret, err := h.enrollingSecret(c, u)
	if errors.Is(err, store.ErrNotFound) {
		return fiber.ErrNotFound
	}
	if err != nil {
		return err
	}
	v := url.Values{"secret": {secret}, "issuer": {totpIssuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {strconv.Itoa(totpPeriod)}}
	key, err := otp.NewKeyFromURL((&url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + totpIssuer + ":" + u.Email, RawQuery: v.Encode()}).String())
	if err != nil {
		return err
	}
	img, err := key.Image(264, 264)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/png")
	return c.Send(buf.Bytes())
}

// totpEnable confirms an enrolment with a first code and shows the ten
// recovery codes, once.
func (h *Handler) totpEnable(c *fiber.Ctx) error {
	ctx := c.UserContext()
	u, _ := User(c)
	if u.TOTPEnabledAt != nil {
		return c.Redirect("/staff/totp", fiber.StatusSeeOther)
	}
	acctKey, ipKey := attemptKeys(c, u.Email)
	if limited, err := h.countCodeAttempt(c, u, acctKey, ipKey); err != nil || limited {
		return err
	}
	secret, err := h.enrollingSecret(c, u)
	if errors.Is(err, store.ErrNotFound) {
		return c.Redirect("/staff/totp", fiber.StatusSeeOther)
	}
	if err != nil {
		return err
	}
	step, ok := TOTPStep(secret, c.FormValue("code"), time.Now())
	if !ok {
		p := h.page(c, "StaffTitleTOTP")
		p.Error = msgEnrolWrong
		p.Data = TOTPPage{Required: u.NeedsTOTP(), Secret: groups(secret)}
		return h.render(c, fiber.StatusUnprocessableEntity, "staff/totp", p)
	}
	codes := newRecoveryCodes()
	if err := h.store.EnableTOTP(ctx, u.ID, step, codes); errors.Is(err, store.ErrTOTPEnabled) {
		return c.Redirect("/staff/totp", fiber.StatusSeeOther)
	} else if err != nil {
		return err
	}
	if err := h.attemptRight(c, acctKey, ipKey); err != nil {
		return err
	}
	if err := h.audit(ctx, u, "totp.enrol", h.clientIP(c)); err != nil {
		return err
	}
	return h.showCodes(c, u, codes)
}

func (h *Handler) showCodes(c *fiber.Ctx, u store.Staff, codes []string) error {
	p := h.page(c, "StaffTitleTOTP")
	p.Data = TOTPPage{Enabled: true, Required: u.NeedsTOTP(), Codes: codes, Left: int64(len(codes))}
	return h.render(c, fiber.StatusOK, "staff/totp", p)
}

// countCodeAttempt counts a code typed in a session like a sign-in's
// (countAttempt): a stolen session is no way round the limits. Past them,
// it has answered the second-factor page with 429.
func (h *Handler) countCodeAttempt(c *fiber.Ctx, u store.Staff, acctKey, ipKey string) (bool, error) {
	throttled, err := h.countAttempt(c, acctKey, ipKey, store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: u.Society, Action: "login.throttled", IP: h.clientIP(c)})
	if err != nil || !throttled {
		return throttled, err
	}
	p := h.page(c, "StaffTitleTOTP")
	p.Error = msgLoginThrottled
	p.Data = TOTPPage{Enabled: u.TOTPEnabledAt != nil, Required: u.NeedsTOTP()}
	return true, h.render(c, fiber.StatusTooManyRequests, "staff/totp", p)
}

// totpRecovery makes new recovery codes, after a current code.
func (h *Handler) totpRecovery(c *fiber.Ctx) error {
	return h.withCurrentCode(c, func(u store.Staff) error {
		codes := newRecoveryCodes()
		if err := h.store.NewRecoveryCodes(c.UserContext(), u.ID, codes); err != nil {
			return err
		}
		if err := h.audit(c.UserContext(), u, "totp.recovery_new", h.clientIP(c)); err != nil {
			return err
		}
		return h.showCodes(c, u, codes)
	})
}

// totpOff turns the second factor off, after a current code, for an
// account that does not need one. Its sessions end with it.
func (h *Handler) totpOff(c *fiber.Ctx) error {
	return h.withCurrentCode(c, func(u store.Staff) error {
		if u.NeedsTOTP() {
			p := h.page(c, "StaffTitleTOTP")
			p.Error = msgTOTPCannotOff
			p.Data = TOTPPage{Enabled: true, Required: true}
			return h.render(c, fiber.StatusConflict, "staff/totp", p)
		}
		if err := h.store.ResetTOTP(c.UserContext(), u.ID); err != nil {
			return err
		}
		if err := h.audit(c.UserContext(), u, "totp.off", h.clientIP(c)); err != nil {
			return err
		}
		h.clearCookie(c)
		return c.Redirect("/staff/login", fiber.StatusSeeOther)
	})
}

// withCurrentCode runs fn once the signed-in account has typed a good
// code of its second factor (or a recovery code).
func (h *Handler) withCurrentCode(c *fiber.Ctx, fn func(u store.Staff) error) error {
	u, _ := User(c)
	if u.TOTPEnabledAt == nil {
		return c.Redirect("/staff/totp", fiber.StatusSeeOther)
	}
	acctKey, ipKey := attemptKeys(c, u.Email)
	if limited, err := h.countCodeAttempt(c, u, acctKey, ipKey); err != nil || limited {
		return err
	}
	method, _, err := h.checkSecondFactor(c, u, utils.CopyString(c.FormValue("code")))
	if err != nil {
		return err
	}
	if method == "" {
		if err := h.audit(c.UserContext(), u, "totp.code_failed", h.clientIP(c)); err != nil {
			return err
		}
		n, err := h.store.RecoveryCodesLeft(c.UserContext(), u.ID)
		if err != nil {
			return err
		}
		p := h.page(c, "StaffTitleTOTP")
		p.Error = msgCodeWrong
		p.Data = TOTPPage{Enabled: true, Required: u.NeedsTOTP(), Left: n}
		return h.render(c, fiber.StatusUnprocessableEntity, "staff/totp", p)
	}
	if err := h.attemptRight(c, acctKey, ipKey); err != nil {
		return err
	}
	return fn(u)
}
