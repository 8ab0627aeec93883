package staff_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
)

var (
	secretShown   = regexp.MustCompile(`id="totp-secret" dir="ltr">([A-Z2-7 ]+)<`)
	recoveryShown = regexp.MustCompile(`<code>([A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4})</code>`)
)

// post sends a form from a page of the back office, with that page's token.
func post(t *testing.T, b *sitetest.Browser, from, to string, form url.Values) sitetest.Page {
	t.Helper()
	form.Set("_csrf", sitetest.CSRF(t, b.Get(from)))
	return b.Do("POST", to, form)
}

// passwordStep signs in with the password alone and returns the answer.
func passwordStep(t *testing.T, b *sitetest.Browser, email string) sitetest.Page {
	t.Helper()
	return post(t, b, "/staff/login", "/staff/login", url.Values{"email": {email}, "password": {sitetest.Password}})
}

func codeStep(t *testing.T, b *sitetest.Browser, code string) sitetest.Page {
	t.Helper()
	return post(t, b, "/staff/login/code", "/staff/login/code", url.Values{"code": {code}})
}

// TestSecondFactor: a caseworker sets up TOTP from the QR code's secret,
// keeps ten recovery codes, and from then on a right password alone opens
// nothing; a code works once, a recovery code once, a wrong code is
// refused and counted, and a password change voids a sign-in waiting for
// its code.
func TestSecondFactor(t *testing.T) {
	e := sitetest.New(t)
	ctx := context.Background()
	ana := e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.Browser(t)
	if res := b.Login(ana.Email, sitetest.Password); res.Header.Get("Location") != "/staff/" {
		t.Fatalf("a caseworker without a second factor signs in with a password: %d %s", res.Status, res.Header.Get("Location"))
	}

	// Set-up: the page shows the secret as text and as a QR code made here.
	page := b.Get("/staff/totp")
	m := secretShown.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("the set-up page shows no secret:\n%s", page.Body)
	}
	secret := strings.ReplaceAll(m[1], " ", "")
	if again := secretShown.FindStringSubmatch(b.Get("/staff/totp").Body); again == nil || again[1] != m[1] {
		t.Error("reloading the set-up page changed the secret")
	}
	qr := b.Get("/staff/totp/qr.png")
	if qr.Status != http.StatusOK || qr.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix([]byte(qr.Body), []byte("\x89PNG")) {
		t.Fatalf("QR code: %d %s", qr.Status, qr.Header.Get("Content-Type"))
	}
	if strings.Contains(page.Body, "<script") || strings.Contains(page.Body, "http://") || strings.Contains(page.Body, "https://") {
		t.Error("the set-up page loads a script or names another site")
	}
	if res := post(t, b, "/staff/totp", "/staff/totp", url.Values{"code": {"000000"}}); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, m[1]) {
		t.Fatalf("a wrong first code: %d, want 422 with the same secret", res.Status)
	}
	res := post(t, b, "/staff/totp", "/staff/totp", url.Values{"code": {staff.TOTPCode(secret, time.Now())}})
	codes := recoveryShown.FindAllStringSubmatch(res.Body, -1)
	if res.Status != http.StatusOK || len(codes) != store.RecoveryCodes {
		t.Fatalf("turning it on: %d, %d recovery codes shown", res.Status, len(codes))
	}
	if qr := b.Get("/staff/totp/qr.png"); qr.Status != http.StatusNotFound {
		t.Errorf("the QR code of a secret in use is still served: %d", qr.Status)
	}
	if strings.Contains(b.Get("/staff/totp").Body, codes[0][1]) {
		t.Error("the recovery codes are shown a second time")
	}
	// A wrong code on the page itself changes nothing and is recorded.
	if res := post(t, b, "/staff/totp", "/staff/totp/recovery", url.Values{"code": {"000000"}}); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("new recovery codes after a wrong code: %d, want 422", res.Status)
	}
	b.Do("POST", "/staff/logout", url.Values{"_csrf": {sitetest.CSRF(t, b.Get("/staff/"))}})

	// A right password now leads to the code form and to no session.
	b = e.Browser(t)
	if res := passwordStep(t, b, ana.Email); res.Header.Get("Location") != "/staff/login/code" {
		t.Fatalf("password with a second factor on: %d %s", res.Status, res.Header.Get("Location"))
	}
	if !signedOut(t, b) {
		t.Fatal("a right password alone opened the back office")
	}
	if res := codeStep(t, b, "123456"); res.Status != http.StatusUnauthorized || !strings.Contains(res.Body, "code is wrong") {
		t.Fatalf("a wrong code: %d", res.Status)
	}
	// The first code was spent at set-up: the next step's code opens it.
	code := staff.TOTPCode(secret, time.Now().Add(30*time.Second))
	if res := codeStep(t, b, code); res.Header.Get("Location") != "/staff/" || signedOut(t, b) {
		t.Fatalf("the right code: %d %s", res.Status, res.Header.Get("Location"))
	}
	// The same code a second time, even with the right password, is refused.
	thief := e.Browser(t)
	passwordStep(t, thief, ana.Email)
	if res := codeStep(t, thief, code); res.Status != http.StatusUnauthorized || !signedOut(t, thief) {
		t.Errorf("a code used once opened a second session: %d", res.Status)
	}

	// A recovery code, typed in lower case with spaces, works once.
	rc := codes[3][1]
	typed := strings.ToLower(strings.ReplaceAll(rc, "-", " "))
	phoneless := e.Browser(t)
	passwordStep(t, phoneless, ana.Email)
	if res := codeStep(t, phoneless, typed); res.Status != http.StatusSeeOther || signedOut(t, phoneless) {
		t.Fatalf("a recovery code: %d", res.Status)
	}
	again := e.Browser(t)
	passwordStep(t, again, ana.Email)
	if res := codeStep(t, again, rc); res.Status != http.StatusUnauthorized {
		t.Errorf("a recovery code used once opened a session again: %d", res.Status)
	}
	if n, _ := e.Store.RecoveryCodesLeft(ctx, ana.ID); n != store.RecoveryCodes-1 {
		t.Errorf("%d recovery codes left, want %d", n, store.RecoveryCodes-1)
	}

	// A password change between the password and the code voids the sign-in.
	late := e.Browser(t)
	passwordStep(t, late, ana.Email)
	token := sitetest.CSRF(t, late.Get("/staff/login/code"))
	hash, _ := staff.HashPassword(sitetest.Password)
	if _, err := e.Store.SetPassword(ctx, ana.ID, hash, false); err != nil {
		t.Fatal(err)
	}
	if res := late.Get("/staff/login/code"); res.Header.Get("Location") != "/staff/login" {
		t.Errorf("the code form after a password change: %d, want a redirect to the login", res.Status)
	}
	if res := late.Do("POST", "/staff/login/code", url.Values{"_csrf": {token}, "code": {codes[5][1]}}); res.Status != http.StatusUnauthorized || !signedOut(t, late) {
		t.Errorf("a sign-in begun before a password change finished after it: %d", res.Status)
	}

	// Wrong codes count against the same limit as wrong passwords.
	guesser := e.Browser(t)
	passwordStep(t, guesser, ana.Email)
	var last int
	for range staff.MaxFailsPerEmail + 2 {
		last = codeStep(t, guesser, "000000").Status
	}
	if last != http.StatusTooManyRequests {
		t.Errorf("after %d wrong codes: %d, want 429", staff.MaxFailsPerEmail+2, last)
	}

	got := actions(t, e.Store)
	for _, want := range []string{"totp.enrol:" + ana.Email, "totp.code_failed:" + ana.Email, "login.code_failed:" + ana.Email, "totp.recovery_used:" + ana.Email, "login.throttled:" + ana.Email} {
		if !slices.Contains(got, want) {
			t.Errorf("audit log lacks %s: %v", want, got)
		}
	}
}

// TestSecondFactorRequired: administrators always need a second factor,
// and a Society can require one of everyone; until they set it up, such
// accounts reach nothing but the set-up page. A Society administrator
// resets a colleague's, who then sets it up again.
func TestSecondFactorRequired(t *testing.T) {
	e := sitetest.New(t)
	ctx := context.Background()
	hash, _ := staff.HashPassword(sitetest.Password)
	root, err := e.Store.CreateStaff(ctx, "root@icrc.example", "", store.RoleAdmin, hash, false)
	if err != nil {
		t.Fatal(err)
	}
	ana := e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	luc := e.Account(t, "luc@croix-rouge.example", "fr", store.RoleCaseworker)
	if err := e.Store.SetSocietyRequiresTOTP(ctx, "de", true); err != nil {
		t.Fatal(err)
	}
	for _, who := range []store.Staff{root, ana} {
		b := e.Browser(t)
		b.Login(who.Email, sitetest.Password)
		for _, path := range []string{"/staff/", "/staff/enquiries", "/staff/gallery", "/staff/audit"} {
			if res := b.Get(path); res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/staff/totp" {
				t.Errorf("%s without the second factor it needs: GET %s gave %d %s", who.Email, path, res.Status, res.Header.Get("Location"))
			}
		}
		if res := b.Get("/staff/totp"); res.Status != http.StatusOK || !strings.Contains(res.Body, "needs a second factor") {
			t.Errorf("%s: the set-up page: %d", who.Email, res.Status)
		}
		if res := post(t, b, "/staff/totp", "/staff/totp/off", url.Values{"code": {"000000"}}); res.Status != http.StatusSeeOther || res.Header.Get("Location") != "/staff/totp" {
			t.Errorf("%s: turning off a second factor it does not have: %d", who.Email, res.Status)
		}
	}
	// The French Red Cross requires nothing: its caseworker works as before.
	fr := e.Browser(t)
	fr.Login(luc.Email, sitetest.Password)
	if res := fr.Get("/staff/enquiries"); res.Status != http.StatusOK {
		t.Errorf("a caseworker of a Society that does not require it: %d", res.Status)
	}
	// Once enrolled, the German caseworker cannot turn it off.
	secret := e.EnrolTOTP(t, ana)
	b := e.Browser(t)
	if res := b.Login(ana.Email, sitetest.Password); res.Header.Get("Location") != "/staff/" {
		t.Fatalf("sign-in with the code: %d", res.Status)
	}
	if res := post(t, b, "/staff/totp", "/staff/totp/off", url.Values{"code": {e.TOTPCodeFor(t, ana.Email, secret)}}); res.Status != http.StatusConflict {
		t.Errorf("turning off a required second factor: %d, want 409", res.Status)
	}
	if tf, err := e.Store.TOTPOf(ctx, ana.ID); err != nil || tf.EnabledAt == nil {
		t.Errorf("the required second factor was turned off: %v", err)
	}
}
