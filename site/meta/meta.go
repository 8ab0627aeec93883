// Package meta serves what machines read: /healthz, /readyz, /metrics,
// /robots.txt and /sitemap.xml.
package meta

import (
	"bytes"
	"encoding/xml"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
)

// Handler serves the machine-readable routes.
type Handler struct {
	kit      *web.Kit
	data     *content.Data
	postgres Check
	search   Check
	metrics  *web.Metrics
}

// New returns the handler; postgres and search are the readiness checks
// (nil when the dependency is not configured).
func New(kit *web.Kit, data *content.Data, metrics *web.Metrics, postgres, search Check) *Handler {
	return &Handler{kit: kit, data: data, metrics: metrics, postgres: postgres, search: search}
}

// Register registers the routes outside any language.
func (h *Handler) Register(r fiber.Router) {
	r.Get("/healthz", h.healthz)           // liveness: the process answers
	r.Get("/readyz", h.readyz)             // readiness, per dependency, as JSON
	r.Get("/metrics", h.metrics.Handler()) // Prometheus metrics
	r.Get("/robots.txt", h.robots)         // crawl everything public, never /staff/
	r.Get("/sitemap.xml", h.sitemap)       // every public page in every language
}

func (h *Handler) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendString("ok\n")
}

func (h *Handler) robots(c *fiber.Ctx) error {
	e, err := h.kit.Pages.Get("robots", fiber.MIMETextPlainCharsetUTF8, func() ([]byte, error) {
		return []byte("User-agent: *\nDisallow: /staff/\nDisallow: /media/\nAllow: /\n\nSitemap: " + h.kit.BaseURL + "/sitemap.xml\n"), nil
	})
	if err != nil {
		return err
	}
	return e.Serve(c, "public, max-age=3600")
}

// PublicPaths lists every public page's path after /{lang}.
func (h *Handler) PublicPaths() []string {
	paths := []string{"/", "/countries", "/contact", "/trace-the-face", "/how-we-work", "/privacy", "/faq"}
	for _, c := range h.data.Countries {
		paths = append(paths, "/countries/"+c.ISO2)
	}
	return paths
}

type xmlLink struct {
	Rel      string `xml:"rel,attr"`
	HrefLang string `xml:"hreflang,attr"`
	Href     string `xml:"href,attr"`
}

type xmlURL struct {
	Loc   string    `xml:"loc"`
	Links []xmlLink `xml:"xhtml:link"`
}

type xmlURLSet struct {
	XMLName xml.Name `xml:"urlset"`
	NS      string   `xml:"xmlns,attr"`
	XHTML   string   `xml:"xmlns:xhtml,attr"`
	URLs    []xmlURL `xml:"url"`
}

func (h *Handler) sitemap(c *fiber.Ctx) error {
	e, err := h.kit.Pages.Get("sitemap", "application/xml; charset=utf-8", h.buildSitemap)
	if err != nil {
		return err
	}
	return e.Serve(c, "public, max-age=3600")
}

func (h *Handler) buildSitemap() ([]byte, error) {
	set := xmlURLSet{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", XHTML: "http://www.w3.org/1999/xhtml"}
	langs := h.kit.Catalog.Languages()
	for _, p := range h.PublicPaths() {
		var links []xmlLink
		for _, l := range langs {
			links = append(links, xmlLink{Rel: "alternate", HrefLang: l.HrefLang(), Href: h.kit.BaseURL + "/" + l.Code + p})
		}
		links = append(links, xmlLink{Rel: "alternate", HrefLang: "x-default", Href: h.kit.BaseURL + "/en" + p})
		for _, l := range langs {
			set.URLs = append(set.URLs, xmlURL{Loc: h.kit.BaseURL + "/" + l.Code + p, Links: links})
		}
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	if err := enc.Encode(set); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
