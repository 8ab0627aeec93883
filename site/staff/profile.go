package staff

import (
	"errors"

	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// ProfileData is the data of the profile page.
type ProfileData struct {
	// Saved is true just after the language was saved.
	Saved bool
}

func (h *Handler) profile(c *fiber.Ctx) error {
	p := h.page(c, "StaffTitleProfile")
	p.Data = ProfileData{Saved: c.Query("saved") == "1"}
	return h.render(c, fiber.StatusOK, "staff/profile", p)
}

// saveProfile stores the chosen language with the account, so that it
// follows the person to any browser, and in the cookie, so that the login
// page speaks it after they sign out.
func (h *Handler) saveProfile(c *fiber.Ctx) error {
	u, _ := User(c)
	l, ok := h.kit.Catalog.StaffLanguage(utils.CopyString(c.FormValue("language")))
	if !ok {
		return web.BadRequest(errors.New("staff: profile: not a language of the back office"))
	}
	ctx := c.UserContext()
	if err := h.store.SetLanguage(ctx, u.ID, l.Code); err != nil {
		return err
	}
	if err := h.store.Audit(ctx, store.AuditEntry{StaffID: &u.ID, Actor: u.Email, Society: u.Society,
		Action: "profile.language", IP: h.clientIP(c), Detail: map[string]any{"from": u.Language, "to": l.Code}}); err != nil {
		return err
	}
	h.kit.SetLangCookie(c, l.Code)
	return c.Redirect("/staff/profile?saved=1", fiber.StatusSeeOther)
}
