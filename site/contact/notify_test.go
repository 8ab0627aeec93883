package contact_test

import (
	"context"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/contact"
	"github.com/familylinks/familylinks/site/notify"
	"github.com/familylinks/familylinks/site/notify/smtptest"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// TestNotificationMail submits an enquiry, then runs the outbox worker
// against a real SMTP server that refuses the first attempt: the German
// Red Cross's address gets exactly one mail, with the reference and a link,
// and none of what the person typed.
func TestNotificationMail(t *testing.T) {
	e := sitetest.New(t)
	ctx := context.Background()
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	admin := e.Account(t, "root@icrc.example", "", store.RoleAdmin)
	if err := e.Store.SetInbox(ctx, "de", "suchdienst@drk.example", false, admin.ID); err != nil {
		t.Fatal(err)
	}
	ref := sendEnquiry(t, e, "ar")
	srv := smtptest.Start(t, smtptest.Options{})
	srv.Refuse("RCPT", 451, 1)
	mailer, err := notify.New("smtp://127.0.0.1:"+srv.Port+"?from=noreply@familylinks.test&starttls=off", nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &store.Worker{Store: e.Store, Log: log, Backoff: func(int) time.Duration { return 10 * time.Millisecond },
		Handlers: map[string]store.OutboxHandler{
			store.TopicEnquiryNotify: contact.NotifyHandler(e.Data, e.Catalog, e.Store, mailer, sitetest.BaseURL, log),
		}}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _ := e.Store.OutboxRows(ctx)
	if rows[0].DoneAt != nil || rows[0].LastError == nil || !strings.Contains(*rows[0].LastError, "451") {
		t.Fatalf("after the refusal the notice must wait for a retry: %+v", rows[0])
	}
	time.Sleep(30 * time.Millisecond)
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "suchdienst@drk.example" {
		t.Fatalf("delivered: %+v", msgs)
	}
	// The body is quoted-printable: decode it as a mail client would.
	_, body, _ := strings.Cut(string(msgs[0].Data), "\r\n\r\n")
	dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	raw := string(msgs[0].Data) + string(dec)
	if !strings.Contains(raw, ref) || !strings.Contains(raw, sitetest.BaseURL+"/staff/enquiries/"+ref) {
		t.Errorf("the mail lacks the reference or the link:\n%s", raw)
	}
	for _, v := range valid("de") {
		for _, s := range v {
			if len(s) > 3 && s != "conflict" && s != "mother" && s != "yes" && s != "son" && strings.Contains(raw, s) {
				t.Errorf("the mail carries personal data: %q", s)
			}
		}
	}
	for _, s := range []string{"amina", "border", "Kabul"} {
		if strings.Contains(strings.ToLower(raw), strings.ToLower(s)) {
			t.Errorf("the mail carries %q", s)
		}
	}
	rows, _ = e.Store.OutboxRows(ctx)
	if rows[0].DoneAt == nil || rows[0].Attempts != 2 {
		t.Errorf("outbox row: %+v", rows[0])
	}
}

// sendEnquiry sends a valid enquiry to the German Red Cross from a page in
// lang and returns its reference, as the confirmation's cookie holds it.
func sendEnquiry(t *testing.T, e *sitetest.Env, lang string) string {
	t.Helper()
	b := e.Browser(t)
	if res := submit(t, b, lang, valid("de")); res.Status != 303 {
		t.Fatalf("submit: %d", res.Status)
	}
	if ref := b.Cookies["__Host-fl_sent"]; ref != "" {
		return ref
	}
	return b.Cookies["fl_sent"]
}

// TestNotificationMailLanguage: when the notification address is that of
// an enabled account whose back office is in Arabic, the notice comes in
// Arabic, still with only the reference and the link; once that account
// is disabled, or for an address that is no account's, it comes in English.
func TestNotificationMailLanguage(t *testing.T) {
	e := sitetest.New(t)
	ctx := context.Background()
	ana := e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "ben@drk.example", "de", store.RoleCaseworker) // keeps the inbox open once Ana's account is disabled
	admin := e.Account(t, "root@icrc.example", "", store.RoleAdmin)
	if err := e.Store.SetLanguage(ctx, ana.ID, "ar"); err != nil {
		t.Fatal(err)
	}
	mailer := &sitetest.Mailbox{}
	w := &store.Worker{Store: e.Store, Log: slog.New(slog.DiscardHandler), Handlers: map[string]store.OutboxHandler{
		store.TopicEnquiryNotify: contact.NotifyHandler(e.Data, e.Catalog, e.Store, mailer, sitetest.BaseURL, slog.New(slog.DiscardHandler)),
	}}
	send := func(address string) (notify.Message, string) {
		t.Helper()
		if err := e.Store.SetInbox(ctx, "de", address, false, admin.ID); err != nil {
			t.Fatal(err)
		}
		ref := sendEnquiry(t, e, "en")
		before := len(mailer.All())
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		sent := mailer.All()
		if len(sent) != before+1 {
			t.Fatalf("%d notices sent, want 1", len(sent)-before)
		}
		return sent[len(sent)-1], ref
	}
	for _, tt := range []struct {
		name, address, lang string
		disable             bool
	}{
		{"an Arabic speaker's own address", "Ana@drk.example", "ar", false},
		{"an address that is no account's", "suchdienst@drk.example", "en", false},
		{"a disabled account's address", "ana@drk.example", "en", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.disable {
				if err := e.Store.DisableStaff(ctx, ana.Email); err != nil {
					t.Fatal(err)
				}
			}
			m, ref := send(tt.address)
			tr := e.Catalog.Translator(tt.lang)
			if ref == "" || m.Subject != tr.T("StaffNoticeMailSubject", "Ref", ref) || m.Body != tr.T("StaffNoticeMailBody", "Inbox", e.Data.InboxName("de"), "Ref", ref, "Link", sitetest.BaseURL+"/staff/enquiries/"+ref) {
				t.Errorf("not the %s notice: %q\n%s", tt.lang, m.Subject, m.Body)
			}
			if (tt.lang == "ar") != strings.Contains(m.Body, "لا تحتوي هذه الرسالة عمدًا على أي بيانات شخصية") {
				t.Errorf("Arabic when it should not be, or not when it should: %s", m.Body)
			}
			for _, v := range valid("de") {
				for _, s := range v {
					if len(s) > 3 && s != "conflict" && s != "mother" && s != "yes" && s != "son" && strings.Contains(m.Subject+m.Body, s) {
						t.Errorf("the mail carries personal data: %q", s)
					}
				}
			}
		})
	}
}
