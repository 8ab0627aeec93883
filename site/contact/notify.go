package contact

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/site/notify"
	"github.com/familylinks/familylinks/site/store"
)

// NotifyHandler is the outbox handler of store.TopicEnquiryNotify: it
// e-mails the inbox's notification address the reference and a link to the
// back office, and nothing personal. An inbox without an address is
// logged and skipped: the enquiry waits in the back office all the same.
func NotifyHandler(data *content.Data, st *store.Store, mailer notify.Mailer, baseURL string, log *slog.Logger) store.OutboxHandler {
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
		return mailer.Send(ctx, NoticeMail(data.InboxName(n.Inbox), *in.NotificationEmail, n.Reference, baseURL))
	}
}

// NoticeMail is the notification of an enquiry: its reference and a link.
func NoticeMail(inboxName, to, ref, baseURL string) notify.Message {
	return notify.Message{
		To:      to,
		Subject: "Family Links: enquiry " + ref,
		Body: "An enquiry is waiting in the inbox of " + inboxName + ".\n\n" +
			"Reference: " + ref + "\n" +
			"Open it in the back office: " + baseURL + "/staff/enquiries/" + ref + "\n\n" +
			"This e-mail holds no personal data on purpose. Sign in to read the enquiry.\n",
	}
}
