package cards

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/notify"
	"github.com/familylinks/familylinks/site/store"
)

// ReminderHandler sends the reminders RemindStaleCards queues: one e-mail
// to each enabled page editor of the Society, in the language of that
// editor's back office, saying when the card was last confirmed and where
// to check it. The mail holds no personal data: a Society's name, a date
// and a link. societyName names a Society by its code; baseURL is the
// site's public origin.
func ReminderHandler(cat *locales.Catalog, st *store.Store, mailer notify.Mailer, societyName func(string) string, baseURL string, log *slog.Logger) store.OutboxHandler {
	return func(ctx context.Context, m store.OutboxMessage) error {
		var r store.CardReminder
		if err := json.Unmarshal(m.Payload, &r); err != nil {
			return fmt.Errorf("cards: reminder: %w", err)
		}
		to, err := st.PageEditors(ctx, r.Society)
		if err != nil {
			return err
		}
		if len(to) == 0 {
			log.Warn("cards: a card has not been confirmed for a year and its Society has no page editor to remind", "society", r.Society)
			return nil
		}
		for _, ed := range to {
			tr := cat.StaffTranslator(ed.Language)
			if err := mailer.Send(ctx, ReminderMail(tr, ed.Email, societyName(r.Society), r.Society, r.Confirmed, baseURL)); err != nil {
				return err
			}
		}
		return nil
	}
}

// ReminderMail asks a page editor to check the Society's card, in tr's
// language.
func ReminderMail(tr *locales.Translator, to, society, code string, confirmed time.Time, baseURL string) notify.Message {
	return notify.Message{
		To:      to,
		Subject: tr.T("StaffReminderMailSubject", "Society", society),
		Body: tr.T("StaffReminderMailBody", "Society", society, "Date", tr.Date(confirmed),
			"Link", baseURL+"/staff/cards/"+code, "Button", tr.T("StaffCardStillCorrect")),
	}
}
