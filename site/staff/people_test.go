package staff_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/familylinks/familylinks/site/notify"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
)

// deliver runs the outbox worker once over the invitations and returns
// the links of the e-mails it sent, by address.
func deliver(t *testing.T, e *sitetest.Env) map[string]notify.Message {
	t.Helper()
	box := &sitetest.Mailbox{}
	w := &store.Worker{Store: e.Store, Log: slog.New(slog.DiscardHandler),
		Handlers: map[string]store.OutboxHandler{store.TopicStaffInvite: staff.InviteHandler(e.Catalog, e.Keys, box, sitetest.BaseURL, slog.New(slog.DiscardHandler))}}
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	return box.Sent()
}

func linkIn(t *testing.T, m notify.Message) string {
	t.Helper()
	i := strings.Index(m.Body, sitetest.BaseURL+"/staff/invite/")
	if i < 0 {
		t.Fatalf("no invitation link in:\n%s", m.Body)
	}
	link, lang, _ := strings.Cut(strings.Fields(m.Body[i+len(sitetest.BaseURL):])[0], "?lang=")
	if lang == "" {
		t.Errorf("the invitation's link does not say its language: %s", link)
	}
	return link
}

// TestInvitationLifecycle: the Somali Red Crescent's administrator invites
// a caseworker; the e-mail holds the link and nothing personal; the link
// opens the account once, with the password chosen; used, withdrawn or
// expired, it opens nothing. The administrator then sets roles, resets the
// colleague's second factor and disables the account, and every step is
// in the audit trail.
func TestInvitationLifecycle(t *testing.T) {
	e := sitetest.New(t)
	ctx := context.Background()
	boss := e.Account(t, "hodan@bisha-cas.example", "so", store.RoleSocietyAdmin)
	admin := e.Browser(t)
	if res := admin.Login(boss.Email, sitetest.Password); res.Header.Get("Location") != "/staff/" {
		t.Fatalf("Society administrator's sign-in: %d %s", res.Status, res.Header.Get("Location"))
	}
	invite := func(email, role string) sitetest.Page {
		return post(t, admin, "/staff/people", "/staff/people/invite", url.Values{"email": {email}, "role": {role}, "society": {"de"}})
	}
	// Mistakes come back with what was typed.
	if res := invite("not an address", "caseworker"); res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `value="not an address"`) {
		t.Errorf("a bad address: %d", res.Status)
	}
	if res := invite("x@bisha-cas.example", store.RoleSocietyAdmin); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("a Society administrator made another: %d, want 422", res.Status)
	}
	if res := invite(boss.Email, "caseworker"); res.Status != http.StatusConflict {
		t.Errorf("inviting an address that has an account: %d, want 409", res.Status)
	}
	if res := post(t, admin, "/staff/people", "/staff/people/invite", url.Values{"email": {"amina@bisha-cas.example"}, "role": {"caseworker"}, "language": {"ar"}}); res.Status != http.StatusOK || !strings.Contains(res.Body, `id="invite-sent"`) {
		t.Fatalf("invite: %d", res.Status)
	}
	invs, _ := e.Store.Invitations(ctx, "", 10)
	if len(invs) != 1 || invs[0].Society != "so" || invs[0].Email != "amina@bisha-cas.example" {
		t.Fatalf("invitations: %+v (the Society asked for, de, is not the administrator's)", invs)
	}
	mails := deliver(t, e)
	m, ok := mails["amina@bisha-cas.example"]
	if !ok || len(mails) != 1 {
		t.Fatalf("mails sent: %v", mails)
	}
	for _, personal := range []string{boss.Email, "hodan", "Somali", "Somalia", " so "} {
		if strings.Contains(m.Subject+m.Body, personal) {
			t.Errorf("the invitation e-mail says %q:\n%s", personal, m.Body)
		}
	}
	if want := e.Catalog.Translator("ar").T("StaffInviteMailSubject"); m.Subject != want || !strings.Contains(m.Body, "?lang=ar") {
		t.Errorf("an invitation written in Arabic came as %q:\n%s", m.Subject, m.Body)
	}
	link := linkIn(t, m)
	var outbox string
	if err := e.Store.Pool().QueryRow(ctx, `SELECT payload::text FROM outbox WHERE topic = $1`, store.TopicStaffInvite).Scan(&outbox); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(outbox, strings.TrimPrefix(link, "/staff/invite/")) {
		t.Error("the outbox holds the invitation's link in clear")
	}

	// The invitee opens the link and chooses a password.
	amina := e.Browser(t)
	form := amina.Get(link)
	if form.Status != http.StatusOK || !strings.Contains(form.Body, "amina@bisha-cas.example") {
		t.Fatalf("the invitation page: %d", form.Status)
	}
	token := sitetest.CSRF(t, form)
	if res := amina.Do("POST", link, url.Values{"_csrf": {token}, "new": {"short"}, "confirm": {"short"}}); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("a short password: %d", res.Status)
	}
	pw := url.Values{"_csrf": {token}, "new": {sitetest.Password}, "confirm": {sitetest.Password}}
	if res := amina.Do("POST", link, pw); res.Header.Get("Location") != "/staff/" {
		t.Fatalf("accepting: %d %s", res.Status, res.Header.Get("Location"))
	}
	if res := amina.Get("/staff/enquiries"); res.Status != http.StatusOK {
		t.Errorf("the new caseworker's inbox: %d", res.Status)
	}
	st, err := e.Store.StaffByEmail(ctx, "amina@bisha-cas.example")
	if err != nil || st.SocietyCode() != "so" || st.Role != store.RoleCaseworker || st.MustChange {
		t.Fatalf("the new account: %+v %v", st, err)
	}
	// The link is spent: a second visitor gets nothing.
	other := e.Browser(t)
	if res := other.Get(link); res.Status != http.StatusGone || strings.Contains(res.Body, `name="new"`) {
		t.Errorf("a used link: %d, want 410 without the form", res.Status)
	}
	if res := other.Do("POST", link, url.Values{"_csrf": {sitetest.CSRF(t, other.Get("/staff/login"))}, "new": {"another password 12"}, "confirm": {"another password 12"}}); res.Status != http.StatusGone {
		t.Errorf("a used link, posted: %d", res.Status)
	}
	if res := other.Get("/staff/invite/nothing-like-a-token"); res.Status != http.StatusNotFound {
		t.Errorf("an unknown link: %d", res.Status)
	}

	// An expired link, and a withdrawn one.
	invite("late@bisha-cas.example", "caseworker")
	invite("gone@bisha-cas.example", "caseworker")
	mails = deliver(t, e)
	if _, err := e.Store.Pool().Exec(ctx, `UPDATE staff_invitations SET expires_at = now() - interval '1 second' WHERE email = 'late@bisha-cas.example'`); err != nil {
		t.Fatal(err)
	}
	if res := other.Get(linkIn(t, mails["late@bisha-cas.example"])); res.Status != http.StatusGone || !strings.Contains(res.Body, "expired") {
		t.Errorf("an expired link: %d", res.Status)
	}
	invs, _ = e.Store.Invitations(ctx, "so", 10)
	i := slices.IndexFunc(invs, func(i store.Invitation) bool { return i.Email == "gone@bisha-cas.example" })
	if res := post(t, admin, "/staff/people", "/staff/people/invitations/"+strconv.FormatInt(invs[i].ID, 10)+"/revoke", url.Values{}); res.Status != http.StatusSeeOther {
		t.Errorf("withdrawing: %d", res.Status)
	}
	if res := other.Get(linkIn(t, mails["gone@bisha-cas.example"])); res.Status != http.StatusGone {
		t.Errorf("a withdrawn link: %d", res.Status)
	}

	// Roles, second factor, disabling: within the Society, never oneself.
	page := "/staff/people/" + strconv.FormatInt(st.ID, 10)
	if res := post(t, admin, page, page+"/role", url.Values{"role": {"caseworker"}, "page_editor": {"yes"}}); res.Status != http.StatusSeeOther {
		t.Errorf("making a page editor: %d", res.Status)
	}
	if res := post(t, admin, page, page+"/role", url.Values{"role": {store.RoleSocietyAdmin}}); res.Status != http.StatusForbidden {
		t.Errorf("a Society administrator made another: %d, want 403", res.Status)
	}
	e.EnrolTOTP(t, st)
	if res := post(t, admin, page, page+"/reset-totp", url.Values{}); res.Status != http.StatusSeeOther {
		t.Errorf("resetting the second factor: %d", res.Status)
	}
	if _, err := e.Store.TOTPOf(ctx, st.ID); err == nil {
		t.Error("the second factor is still there after a reset")
	}
	if !signedOut(t, amina) {
		t.Error("a second-factor reset left the account's session open")
	}
	if res := post(t, admin, page, page+"/disable", url.Values{}); res.Status != http.StatusSeeOther {
		t.Errorf("disabling: %d", res.Status)
	}
	if res := amina.Login(st.Email, sitetest.Password); res.Status != http.StatusUnauthorized {
		t.Errorf("a disabled account signed in: %d", res.Status)
	}
	self := "/staff/people/" + strconv.FormatInt(boss.ID, 10)
	if res := post(t, admin, self, self+"/disable", url.Values{}); res.Status != http.StatusConflict {
		t.Errorf("a Society administrator disabled their own account: %d", res.Status)
	}
	a, _ := e.Store.StaffByID(ctx, st.ID)
	if !a.PageEditor || a.DisabledAt == nil {
		t.Errorf("the account after the changes: %+v", a)
	}

	// Requiring a second factor of the whole Society.
	if res := post(t, admin, "/staff/people", "/staff/people/policy", url.Values{"require_totp": {"yes"}}); res.Status != http.StatusSeeOther {
		t.Errorf("policy: %d", res.Status)
	}
	if on, _ := e.Store.SocietyRequiresTOTP(ctx, "so"); !on {
		t.Error("the Somali Red Crescent does not require a second factor")
	}

	got := actions(t, e.Store)
	for _, want := range []string{"staff.invite:" + boss.Email, "staff.invite_accepted:amina@bisha-cas.example", "staff.invite_revoked:" + boss.Email,
		"staff.role:" + boss.Email, "totp.reset:" + boss.Email, "staff.disable:" + boss.Email, "policy.require_totp:" + boss.Email} {
		if !slices.Contains(got, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	// The Society administrator reads its Society's trail, not another's.
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	e.Browser(t).Login("ana@drk.example", sitetest.Password)
	trail := admin.Get("/staff/audit?society=de")
	if trail.Status != http.StatusOK || !strings.Contains(trail.Body, "staff.invite_accepted") || strings.Contains(trail.Body, "ana@drk.example") {
		t.Errorf("the Society administrator's audit trail: %d", trail.Status)
	}
}
