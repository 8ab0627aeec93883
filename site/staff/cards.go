package staff

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/web"
)

// registerCards adds the pages where a Society's page editors keep its
// contact card: one saves a draft, another publishes it.
func (h *Handler) registerCards(r fiber.Router) {
	r.Get("/cards/:society", h.requireStaff, h.cardPage)                              // the card: published, draft, form, history
	r.Post("/cards/:society", h.requireStaff, h.checkCSRF, h.cardSave)                // save a draft (validated, nothing typed lost)
	r.Post("/cards/:society/confirm", h.requireStaff, h.checkCSRF, h.cardConfirm)     // "still correct": the published card, confirmed today
	r.Post("/cards/:society/:id/publish", h.requireStaff, h.checkCSRF, h.cardPublish) // a second person publishes a draft
	r.Post("/cards/:society/:id/reject", h.requireStaff, h.checkCSRF, h.cardReject)   // a draft closed unpublished, with a reason
	r.Post("/cards/:society/:id/restore", h.requireStaff, h.checkCSRF, h.cardRestore) // an earlier version, as a new draft
}

// CardPage is the data of the card page.
type CardPage struct {
	Society, SocietyName string
	Langs                []LangSlot
	Services             []ServiceSlot
	Phones               []cards.Phone
	Emails               []string
	Places               []PlaceSlot
	RFLPage, Form        string
	// Errors maps a field path ("phones.0.number") to its problem, in the
	// page's language.
	Errors           map[string]string
	Published, Draft *store.CardVersion
	// DraftChanges is what publishing the draft would change.
	DraftChanges []cards.Change
	History      []HistoryRow
	// CanPublish: there is a draft and this account did not save it.
	CanPublish bool
	// Notice is the message ID of why an action was refused.
	Notice string
	page   Page // for the "card-changes" partial, which needs the translator
}

// ChangeList is a list of changes with the page that shows it, so that
// the "card-changes" partial can translate its headings.
type ChangeList struct {
	Page
	List []cards.Change
}

// Changes pairs a list of changes with the page, for "card-changes".
func (p CardPage) Changes(list []cards.Change) ChangeList {
	return ChangeList{Page: p.page, List: list}
}

// HistoryRow is a version with what it changed from the one before it.
type HistoryRow struct {
	store.CardVersion
	Changes []cards.Change
}

// Err is the problem with a field, if any.
func (p CardPage) Err(field string) string { return p.Errors[field] }

// placeProblems are the problems with a place's hours and languages, each
// after the weekday or the tag it is about, in the page's language.
func placeProblems(tr *locales.Translator, i int, pl cards.Place, errs cards.Errors) []string {
	var out []string
	for j, h := range pl.Hours {
		for _, k := range []string{fmt.Sprintf("places.%d.hours.%d", i, j), fmt.Sprintf("places.%d.hours.%d.day", i, j)} {
			if pr, ok := errs[k]; ok {
				where := k[len(fmt.Sprintf("places.%d.", i)):]
				if h.Day >= time.Sunday && h.Day <= time.Saturday {
					where = tr.Weekday(h.Day)
				}
				out = append(out, tr.T("StaffCardProblemAt", "Where", where, "Problem", tr.T(pr.ID, pr.Args...)))
			}
		}
	}
	for j, tag := range pl.Languages {
		if pr, ok := errs[fmt.Sprintf("places.%d.languages.%d", i, j)]; ok {
			out = append(out, tr.T("StaffCardProblemAt", "Where", web.Isolate(tag), "Problem", tr.T(pr.ID, pr.Args...)))
		}
	}
	return out
}

// LangSlot is one language's desk name and note.
type LangSlot struct{ Code, Name, Desk, Note string }

// ServiceSlot is one of the network's services, offered or not.
type ServiceSlot struct {
	Code, Name, Note string
	Offered          bool
}

// PlaceSlot is a walk-in place with one opening span per weekday.
type PlaceSlot struct {
	cards.Place
	LanguagesText string
	Days          []DaySlot
	// Problems are those of its hours and languages, translated.
	Problems []string
}

// DaySlot is one weekday's opening span.
type DaySlot struct {
	Day         int
	Name        string
	Open, Close string
}

// cardSociety is the Society named in the path, when this account may keep
// its card; anything else is a 404, as elsewhere in the back office.
func (h *Handler) cardSociety(c *fiber.Ctx) (string, store.Staff, error) {
	u, _ := User(c)
	code := c.Params("society")
	cn, ok := h.data.Country(code)
	if !ok || !cn.Society.Active() || !u.CanEditCard(code) {
		return "", u, web.NotFound()
	}
	return cn.ISO2, u, nil
}

func (h *Handler) cardPage(c *fiber.Ctx) error {
	society, u, err := h.cardSociety(c)
	if err != nil {
		return err
	}
	p, err := h.cardPageData(c, society, u, nil, nil)
	if err != nil {
		return err
	}
	return h.renderCard(c, fiber.StatusOK, p)
}

// cardPageData fills the page from the open draft, else the published
// card, unless typed (a form coming back with errors) is given.
func (h *Handler) cardPageData(c *fiber.Ctx, society string, u store.Staff, typed *cards.Card, errs cards.Errors) (CardPage, error) {
	hist, err := h.store.CardHistory(c.UserContext(), society)
	if err != nil {
		return CardPage{}, err
	}
	tr := h.tr(c)
	p := CardPage{Society: society, SocietyName: h.societyName(society)}
	if len(errs) > 0 {
		p.Errors = map[string]string{}
		for f, pr := range errs {
			p.Errors[f] = tr.T(pr.ID, pr.Args...)
		}
	}
	for i := range hist {
		switch hist[i].Status {
		case "draft":
			p.Draft = &hist[i]
		case "published":
			p.Published = &hist[i]
		}
		row := HistoryRow{CardVersion: hist[i]}
		if i+1 < len(hist) { // newest first: the one before is next
			row.Changes = cards.Diff(hist[i+1].Card, hist[i].Card)
		} else {
			row.Changes = cards.Diff(nil, hist[i].Card)
		}
		p.History = append(p.History, row)
	}
	if p.Draft != nil {
		var before []byte
		if p.Published != nil {
			before = p.Published.Card
		}
		p.DraftChanges = cards.Diff(before, p.Draft.Card)
	}
	p.CanPublish = p.Draft != nil && !p.Draft.Example && p.Draft.SavedBy != u.ID
	var card cards.Card
	switch {
	case typed != nil:
		card = *typed
	case p.Draft != nil:
		_ = json.Unmarshal(p.Draft.Card, &card)
	case p.Published != nil:
		_ = json.Unmarshal(p.Published.Card, &card)
	}
	h.fillForm(tr, &p, card, errs)
	return p, nil
}

var weekdays = []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}

func (h *Handler) fillForm(tr *locales.Translator, p *CardPage, card cards.Card, errs cards.Errors) {
	for _, l := range h.kit.Catalog.Languages() {
		p.Langs = append(p.Langs, LangSlot{Code: l.Code, Name: l.Name, Desk: card.Desk[l.Code], Note: card.Notes[l.Code]})
	}
	offered := map[string]cards.Offer{}
	for _, o := range card.Services {
		offered[o.Service] = o
	}
	for _, t := range vocab.Services {
		o, ok := offered[t.Code]
		p.Services = append(p.Services, ServiceSlot{Code: t.Code, Name: tr.T(t.Message), Note: o.Note, Offered: ok})
	}
	p.Phones = append(card.Phones, cards.Phone{Voice: true})
	p.Emails = append(card.Emails, "")
	p.RFLPage, p.Form = card.RFLPage, card.Form
	for i, pl := range append(card.Places, cards.Place{}) {
		s := PlaceSlot{Place: pl, LanguagesText: strings.Join(pl.Languages, ", "), Problems: placeProblems(tr, i, pl, errs)}
		for _, d := range weekdays {
			ds := DaySlot{Day: int(d), Name: tr.Weekday(d)}
			for _, hs := range pl.Hours {
				if hs.Day == d {
					ds.Open, ds.Close = hs.Open, hs.Close
				}
			}
			s.Days = append(s.Days, ds)
		}
		p.Places = append(p.Places, s)
	}
}

func (h *Handler) renderCard(c *fiber.Ctx, status int, data CardPage) error {
	p := h.page(c, "StaffTitleCard", "Society", data.SocietyName)
	data.page = p
	p.Data = data
	return h.render(c, status, "staff/card", p)
}

// readCardForm reads the form back into a card, as typed. Empty slots
// (the blank phone, e-mail and place offered for adding one) are skipped.
func (h *Handler) readCardForm(c *fiber.Ctx) cards.Card {
	var card cards.Card
	count := func(name string) int {
		n, _ := strconv.Atoi(c.FormValue(name))
		return min(max(n, 0), cards.MaxRepeated+1)
	}
	for _, l := range h.kit.Catalog.Languages() {
		if v := c.FormValue("desk_" + l.Code); strings.TrimSpace(v) != "" {
			if card.Desk == nil {
				card.Desk = map[string]string{}
			}
			card.Desk[l.Code] = v
		}
		if v := c.FormValue("note_" + l.Code); strings.TrimSpace(v) != "" {
			if card.Notes == nil {
				card.Notes = map[string]string{}
			}
			card.Notes[l.Code] = v
		}
	}
	for _, t := range vocab.Services {
		if c.FormValue("service_"+t.Code) == "yes" {
			card.Services = append(card.Services, cards.Offer{Service: t.Code, Note: c.FormValue("service_note_" + t.Code)})
		}
	}
	for i := range count("phones_n") {
		f := func(k string) string { return c.FormValue(fmt.Sprintf("phone_%d_%s", i, k)) }
		if strings.TrimSpace(f("number")) == "" && strings.TrimSpace(f("label")) == "" {
			continue
		}
		card.Phones = append(card.Phones, cards.Phone{Number: f("number"), Label: f("label"),
			Voice: f("voice") == "yes", SMS: f("sms") == "yes", WhatsApp: f("whatsapp") == "yes", Free: f("free") == "yes"})
	}
	for i := range count("emails_n") {
		if v := c.FormValue(fmt.Sprintf("email_%d", i)); strings.TrimSpace(v) != "" {
			card.Emails = append(card.Emails, v)
		}
	}
	card.RFLPage, card.Form = c.FormValue("rfl_page"), c.FormValue("form")
	for i := range count("places_n") {
		f := func(k string) string { return c.FormValue(fmt.Sprintf("place_%d_%s", i, k)) }
		pl := cards.Place{Name: f("name"), Address: f("address"), City: f("city"), TimeZone: strings.TrimSpace(f("time_zone")), Access: f("access")}
		for _, tag := range strings.Split(f("languages"), ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				pl.Languages = append(pl.Languages, tag)
			}
		}
		for _, d := range weekdays {
			open, closing := strings.TrimSpace(f(fmt.Sprintf("open_%d", d))), strings.TrimSpace(f(fmt.Sprintf("close_%d", d)))
			if open != "" || closing != "" {
				pl.Hours = append(pl.Hours, cards.Hours{Day: d, Open: open, Close: closing})
			}
		}
		if pl.Name == "" && pl.Address == "" && pl.City == "" && len(pl.Hours) == 0 && pl.Access == "" && len(pl.Languages) == 0 {
			continue
		}
		card.Places = append(card.Places, pl)
	}
	return card
}

func (h *Handler) actor(u store.Staff) store.CardActor {
	return store.CardActor{StaffID: u.ID, Email: u.Email}
}

func (h *Handler) cardSave(c *fiber.Ctx) error {
	society, u, err := h.cardSociety(c)
	if err != nil {
		return err
	}
	typed := h.readCardForm(c)
	var langs []string
	for _, l := range h.kit.Catalog.Languages() {
		langs = append(langs, l.Code)
	}
	card, errs := cards.Validate(typed, society, langs)
	if errs != nil {
		p, err := h.cardPageData(c, society, u, &card, errs)
		if err != nil {
			return err
		}
		return h.renderCard(c, fiber.StatusUnprocessableEntity, p)
	}
	b, err := json.Marshal(card)
	if err != nil {
		return err
	}
	if _, err := h.store.SaveCardDraft(c.UserContext(), society, b, nil, h.actor(u)); err != nil {
		return err
	}
	return c.Redirect("/staff/cards/"+society+"?saved=1", fiber.StatusSeeOther)
}

// cardVersion is the version named in the path, when it belongs to the
// Society in the path.
func (h *Handler) cardVersion(c *fiber.Ctx, society string) (store.CardVersion, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil {
		return store.CardVersion{}, web.NotFound()
	}
	v, err := h.store.CardVersionByID(c.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && v.Society != society) {
		return store.CardVersion{}, web.NotFound()
	}
	return v, err
}

func (h *Handler) cardPublish(c *fiber.Ctx) error {
	society, u, err := h.cardSociety(c)
	if err != nil {
		return err
	}
	v, err := h.cardVersion(c, society)
	if err != nil {
		return err
	}
	_, err = cards.Publish(c.UserContext(), h.store, v, h.actor(u))
	switch {
	case errors.Is(err, store.ErrSamePerson):
		return h.cardRefused(c, society, u, "StaffCardRefusedSamePerson")
	case errors.Is(err, store.ErrNotDraft):
		return h.cardRefused(c, society, u, "StaffCardRefusedNotDraft")
	case errors.Is(err, store.ErrExample):
		return h.cardRefused(c, society, u, "StaffCardRefusedExample")
	case err != nil:
		return err
	}
	h.cards.Changed()
	return c.Redirect("/staff/cards/"+society+"?published=1", fiber.StatusSeeOther)
}

// cardRefused shows the card again with why (a message ID) an action
// was refused.
func (h *Handler) cardRefused(c *fiber.Ctx, society string, u store.Staff, why string) error {
	p, err := h.cardPageData(c, society, u, nil, nil)
	if err != nil {
		return err
	}
	p.Notice = why
	return h.renderCard(c, fiber.StatusConflict, p)
}

func (h *Handler) cardReject(c *fiber.Ctx) error {
	society, u, err := h.cardSociety(c)
	if err != nil {
		return err
	}
	v, err := h.cardVersion(c, society)
	if err != nil {
		return err
	}
	why := strings.TrimSpace(c.FormValue("why"))
	if len([]rune(why)) > cards.MaxText {
		why = string([]rune(why)[:cards.MaxText])
	}
	if err := h.store.RejectCard(c.UserContext(), v.ID, why, h.actor(u)); errors.Is(err, store.ErrNotDraft) {
		return h.cardRefused(c, society, u, "StaffCardRefusedNotDraft")
	} else if err != nil {
		return err
	}
	return c.Redirect("/staff/cards/"+society, fiber.StatusSeeOther)
}

func (h *Handler) cardRestore(c *fiber.Ctx) error {
	society, u, err := h.cardSociety(c)
	if err != nil {
		return err
	}
	v, err := h.cardVersion(c, society)
	if err != nil {
		return err
	}
	if _, err := h.store.SaveCardDraft(c.UserContext(), society, v.Card, &v.ID, h.actor(u)); err != nil {
		return err
	}
	return c.Redirect("/staff/cards/"+society+"?saved=1", fiber.StatusSeeOther)
}

func (h *Handler) cardConfirm(c *fiber.Ctx) error {
	society, u, err := h.cardSociety(c)
	if err != nil {
		return err
	}
	if _, err := h.store.ConfirmCard(c.UserContext(), society, h.actor(u)); errors.Is(err, store.ErrNotFound) {
		return h.cardRefused(c, society, u, "StaffCardRefusedNothingToConfirm")
	} else if err != nil {
		return err
	}
	h.cards.Changed()
	return c.Redirect("/staff/cards/"+society+"?confirmed=1", fiber.StatusSeeOther)
}
