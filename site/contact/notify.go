package contact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/notify"
	"github.com/familylinks/familylinks/site/store"
)

// NotifyHandler is the outbox handler of store.TopicEnquiryNotify: it
// e-mails the inbox's notification address the reference and a link to the
// back office, and nothing personal. An inbox without an address is
// logged and skipped: the enquiry waits in the back office all the same.
// The mail speaks the back-office language of the enabled account with
// that address, if there is one; a shared address is written to in
// English.
func NotifyHandler(data *content.Data, cat *locales.Catalog, st *store.Store, mailer notify.Mailer, baseURL string, log *slog.Logger) store.OutboxHandler {
	return func(ctx context.Context, m store.OutboxMessage) error {
		var n store.EnquiryNotice
		if err := json.Unmarshal(m.Payload, &n); err != nil {
			return fmt.Errorf("contact: notice: %w", err)
		}
		in, err := st.InboxByCode(ctx, n.Inbox)
		if err != nil {
			return err
		}
		if in.NotificationEmail == nil || *in.NotificationEmail == "" {
			log.Warn("contact: inbox has no notification address; the enquiry waits in the back office",
				"inbox", n.Inbox, "reference", n.Reference)
			return nil
		}
		to := *in.NotificationEmail
		lang := "en"
		switch u, err := st.StaffByEmail(ctx, strings.ToLower(to)); {
		case err == nil && u.DisabledAt == nil:
			lang = u.Language
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		return mailer.Send(ctx, NoticeMail(cat.StaffTranslator(lang), data.InboxName(n.Inbox), to, n.Reference, baseURL))
	}
}

// NoticeMail is the notification of an enquiry, in tr's language: its
// reference and a link.
func NoticeMail(tr *locales.Translator, inboxName, to, ref, baseURL string) notify.Message {
	return notify.Message{
		To:      to,
		Subject: tr.T("StaffNoticeMailSubject", "Ref", ref),
		Body:    tr.T("StaffNoticeMailBody", "Inbox", inboxName, "Ref", ref, "Link", baseURL+"/staff/enquiries/"+ref),
	}
}
