// Package site assembles the Family Links web application: configuration,
// middleware order, and every feature's routes.
package site

import (
	"context"
	"crypto/rand"
	"fmt"
	"html/template"
	"log/slog"
	"strings"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/contact"
	"github.com/familylinks/familylinks/site/countries"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/directory"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/meta"
	"github.com/familylinks/familylinks/site/pages"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/static"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/views"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
)

// Config is the site's configuration, read from the environment by cmd.
type Config struct {
	// BaseURL is the public origin, for example https://familylinks.example.
	BaseURL string
	// TrustedProxies are the proxies whose X-Real-IP header is believed.
	TrustedProxies []string
}

// Deps are the site's dependencies, loaded and validated by the caller.
// Store and Search may be nil: the public pages need neither, the back
// office needs the store, and /readyz reports what is missing.
type Deps struct {
	Content *content.Data
	Catalog *locales.Catalog
	Log     *slog.Logger
	Store   *store.Store
	Search  *search.Client
	// Keys seals personal data; required with Store.
	Keys *crypt.Keyring
	// CSRFKey signs the forms' CSRF tokens; required with Store, and the
	// same on every replica. It is its own secret, not derived from Keys,
	// so that rotating the data key leaves open forms working.
	CSRFKey []byte
	// Cards holds the Societies' published cards for the public pages;
	// New makes one from Store when it is nil. cmd's serve keeps it
	// current across replicas (Store.Listen).
	Cards *cards.Directory
}

// newKit parses the views and assets and builds the page kit.
func newKit(deps Deps, base string) (*web.Kit, *web.AssetServer, error) {
	v, err := web.ParseViews(views.FS, "pages", "countries", "errors", "staff", "contact", "gallery")
	if err != nil {
		return nil, nil, err
	}
	assets, err := web.LoadAssets(static.FS)
	if err != nil {
		return nil, nil, err
	}
	return &web.Kit{
		Catalog:       deps.Catalog,
		BaseURL:       base,
		SecureCookies: strings.HasPrefix(base, "https://"),
		Views:         v,
		Pages:         &web.Cache{},
		Assets:        web.Assets{CSS: assets.URL("site.css"), Icon: assets.URL("icon.svg"), StaffCSS: assets.URL("staff.css"), Style: template.CSS(assets.Text("site.css"))},
		Log:           deps.Log,
		Countries:     web.NewCountryNames(deps.Catalog, deps.Content.Codes()),
	}, assets, nil
}

// AuditCountryPages renders every country page in every language and
// checks what it tells a reader (see countries.Audit); `familylinks check`
// runs it.
func AuditCountryPages(deps Deps) (countries.Stats, error) {
	kit, _, err := newKit(deps, "http://localhost")
	if err != nil {
		return countries.Stats{}, err
	}
	return countries.Audit(kit, deps.Content)
}

// New builds the application. Every template is parsed here, so a broken
// template stops start-up instead of a request.
func New(cfg Config, deps Deps) (*fiber.App, error) {
	base := strings.TrimSuffix(cfg.BaseURL, "/")
	if base == "" {
		return nil, fmt.Errorf("site: no base URL")
	}
	kit, assets, err := newKit(deps, base)
	if err != nil {
		return nil, err
	}
	app := fiber.New(fiber.Config{
		AppName:      "familylinks",
		ErrorHandler: kit.ErrorHandler,
		ReadTimeout:  10 * time.Second,
		WriteTimeout: 10 * time.Second,
		IdleTimeout:  60 * time.Second,
		// Bodies are streamed: the server reads at most BodyLimit bytes of
		// one before the handlers run, and LimitBody refuses anything
		// larger except on the photo upload, which reads its own stream
		// after checking the session (a 10 MB photo). Multipart bodies are
		// never parsed ahead of the handler.
		BodyLimit:                    web.BodyLimit,
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadBufferSize:               8192,
		DisableStartupMessage:        true,
		ProxyHeader:                  "X-Real-IP",
		EnableTrustedProxyCheck:      true,
		TrustedProxies:               cfg.TrustedProxies,
		EnableIPValidation:           true,
	})

	metrics := web.NewMetrics()
	var pgCheck, searchCheck meta.Check
	if deps.Store != nil {
		pgCheck = deps.Store.Ping
		metrics.Watch(deps.Store.Collector())
	}
	if deps.Search != nil {
		searchCheck = deps.Search.Ready
	}

	// Middleware, in order: security headers on every response, errors
	// too; then metrics, which also renders errors so it counts their status.
	app.Use(web.SecurityMiddleware(web.StyleHash(assets.Text("site.css"))))
	app.Use(metrics.Middleware)
	app.Use(web.LimitBody(web.BodyLimit, staff.IsUpload))

	// Routes outside any language.
	meta.New(kit, deps.Content, metrics, pgCheck, searchCheck).Register(app) // /healthz, /readyz, /metrics, /robots.txt, /sitemap.xml
	app.Get("/static/*", assets.Handler)                                     // content-hash CSS and icon
	pages.New(kit).RegisterRoot(app)                                         // / → /{lang}/
	if deps.Store != nil && deps.Keys == nil {
		return nil, fmt.Errorf("site: a data key (FAMILYLINKS_DATA_KEY) is required with a database")
	}
	csrf := &web.CSRF{Secure: kit.SecureCookies, Secret: deps.CSRFKey}
	switch {
	case len(deps.CSRFKey) >= 32:
	case deps.Store != nil:
		return nil, fmt.Errorf("site: a CSRF key of at least 32 bytes (FAMILYLINKS_CSRF_KEY) is required with a database")
	default:
		// Without a database nothing can be sent; a per-process secret
		// still lets the form render.
		csrf.Secret = make([]byte, 32)
		_, _ = rand.Read(csrf.Secret)
	}
	dir := deps.Cards
	if dir == nil && deps.Store != nil {
		dir = cards.NewDirectory(deps.Store.PublishedCards)
	}
	if dir != nil {
		// Pages built from an older card are forgotten: their keys hold
		// the card's version, so they would never be served again anyway.
		dir.OnChange = func() { kit.Pages.Forget("country:"); kit.Pages.Forget(directory.CachePrefix) }
	}
	if deps.Store != nil {
		staff.New(kit, deps.Store, deps.Content, deps.Keys, csrf, dir).Register(app) // /staff/…: login, logout, dashboard (before /:lang)
	}
	directory.New(kit, deps.Content, dir).Register(app) // /api/v1/directory.json, /api/v1/directory/{iso2}.json
	gp := gallery.NewPublic(kit, deps.Content, deps.Store, deps.Search, csrf)
	gp.RegisterMedia(app) // /media/{ref}/{width}.jpg, only while published
	lang := app.Group("/:lang", kit.LangMiddleware)
	var active func(context.Context) (map[string]bool, error)
	if deps.Store != nil {
		active = deps.Store.ActiveInboxes
	}
	ch := countries.New(kit, deps.Content, active, dir)
	ch.Register(lang)                                                          // /{lang}/, /{lang}/countries, /{lang}/countries/{iso2}
	contact.New(kit, deps.Content, deps.Store, deps.Keys, csrf).Register(lang) // /{lang}/contact, /{lang}/contact/sent
	gp.Register(lang)                                                          // /{lang}/trace-the-face, /{lang}/trace-the-face/{ref}
	pages.New(kit).Register(lang)                                              // /{lang}/how-we-work, /privacy, /faq

	// Anything else is a localized 404.
	app.Use(func(c *fiber.Ctx) error { return web.NotFound() })
	return app, nil
}
