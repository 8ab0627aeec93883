package cards

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/familylinks/familylinks/site/notify"
	"github.com/familylinks/familylinks/site/store"
)

// ReminderHandler sends the reminders RemindStaleCards queues: one e-mail
// to each enabled page editor of the Society, saying when the card was
// last confirmed and where to check it. The mail holds no personal data:
// a Society's name, a date and a link. societyName names a Society by its
// code; baseURL is the site's public origin.
func ReminderHandler(st *store.Store, mailer notify.Mailer, societyName func(string) string, baseURL string, log *slog.Logger) store.OutboxHandler {
	return func(ctx context.Context, m store.OutboxMessage) error {
		var r store.CardReminder
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			return fmt.Errorf("cards: reminder: %w", err)
		}
		to, err := st.PageEditorEmails(ctx, r.Society)
		if err != nil {
			return err
		}
		if len(to) == 0 {
			log.Warn("cards: a card has not been confirmed for a year and its Society has no page editor to remind", "society", r.Society)
			return nil
		}
		for _, addr := range to {
			if err := mailer.Send(ctx, ReminderMail(addr, societyName(r.Society), r.Society, r.Confirmed.Format("2 January 2006"), baseURL)); err != nil {
				return err
			}
		}
		return nil
	}
}

// ReminderMail asks a page editor to check the Society's card.
func ReminderMail(to, society, code, confirmed, baseURL string) notify.Message {
	return notify.Message{
		To:      to,
		Subject: "Family Links: please check the contact card of " + society,
		Body: "The family-links contact card of " + society + " on Family Links was last confirmed on " + confirmed + ".\n" +
			"Its public page now tells visitors that the details may have changed.\n\n" +
			"Please check it: " + baseURL + "/staff/cards/" + code + "\n" +
			"If everything is still correct, press \"Still correct\". If something changed, save a new draft for a colleague to publish.\n",
	}
}
