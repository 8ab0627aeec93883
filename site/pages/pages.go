// Package pages serves the language redirect at / and the information pages
// that are the same for everyone: how we work, privacy and questions.
package pages

import (
	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
)

// Handler serves the information pages.
type Handler struct {
	kit *web.Kit
}

// New returns the information pages' handler.
func New(kit *web.Kit) *Handler { return &Handler{kit: kit} }

// RegisterRoot registers the routes outside any language.
func (h *Handler) RegisterRoot(r fiber.Router) {
	r.Get("/", h.root) // negotiate the language, then redirect to /{lang}/
}

// Register registers the routes under /{lang}.
func (h *Handler) Register(r fiber.Router) {
	r.Get("/how-we-work", h.howWeWork) // what the network does, when, and its principles
	r.Get("/privacy", h.privacy)       // the data-protection notice
	r.Get("/faq", h.faq)               // common questions
}

func (h *Handler) root(c *fiber.Ctx) error {
	l := h.kit.Negotiate(c)
	c.Set(fiber.HeaderVary, "Cookie, Accept-Language")
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	return c.Redirect("/"+l.Code+"/", fiber.StatusFound)
}

// InfoPage is the data of how-we-work and privacy.
type InfoPage struct {
	web.Base
	Services []web.ServiceText
}

// Question is one entry of the FAQ, as message IDs.
type Question struct {
	Q, A string
	// Also are messages said after the answer.
	Also []string
}

// FAQPage is the data of the FAQ.
type FAQPage struct {
	web.Base
	Questions []Question
}

func (h *Handler) howWeWork(c *fiber.Ctx) error {
	return h.serve(c, "/how-we-work", "pages/how-we-work", "HowTitle", func(b web.Base) any {
		return InfoPage{Base: b, Services: b.ServiceTexts(vocab.Services.Codes())}
	})
}

func (h *Handler) privacy(c *fiber.Ctx) error {
	return h.serve(c, "/privacy", "pages/privacy", "PrivacyTitle", func(b web.Base) any {
		return InfoPage{Base: b}
	})
}

func (h *Handler) faq(c *fiber.Ctx) error {
	return h.serve(c, "/faq", "pages/faq", "FAQTitle", func(b web.Base) any {
		var qs []Question
		for _, k := range []string{"Cost", "Papers", "Where", "NoSociety", "Time", "Share", "Dead", "TraceTheFace"} {
			q := Question{Q: "FAQ" + k + "Q", A: "FAQ" + k + "A"}
			if k == "Share" {
				q.Also = locales.ConsentMessages()
			}
			qs = append(qs, q)
		}
		return FAQPage{Base: b, Questions: qs}
	})
}

// serve renders a page once per language and then serves it from memory.
func (h *Handler) serve(c *fiber.Ctx, path, view, titleID string, data func(web.Base) any) error {
	lang := web.Lang(c)
	return h.kit.Cached(c, "page:"+lang.Code+path, view, func() any {
		return data(h.kit.Base(lang, path, h.kit.Catalog.Translator(lang.Code).T(titleID)))
	})
}
