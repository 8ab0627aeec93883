package gallery

import (
	"context"
	"errors"
	"html/template"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/web"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Media limits: requests per client address per minute.
const MediaPerMinute = 300

// SearchBudget is how long the gallery waits for Meilisearch before it
// answers from PostgreSQL instead. A search takes milliseconds; a hung or
// overloaded engine would otherwise hold every visitor for the search
// client's whole timeout (measured by make chaos -meili-signal stop).
const SearchBudget = time.Second

// Public serves the gallery, its photo pages and its media.
type Public struct {
	kit    *web.Kit
	data   *content.Data
	store  *store.Store
	search *search.Client // nil: PostgreSQL answers alone
	csrf   *web.CSRF
	cards  *web.Memo[cardKey, template.HTML] // rendered cards
	// recent holds each search's hits as last found: the refs checked in
	// PostgreSQL while Meilisearch answers the same search again.
	recent *web.Memo[search.FaceQuery, []string]
	pages  *web.Memo[string, []byte] // rendered content of gallery pages
}

// NewPublic returns the public gallery's handler.
func NewPublic(kit *web.Kit, data *content.Data, st *store.Store, sc *search.Client, csrf *web.CSRF) *Public {
	return &Public{kit: kit, data: data, store: st, search: sc, csrf: csrf,
		cards: web.NewMemo[cardKey, template.HTML](maxCards), recent: web.NewMemo[search.FaceQuery, []string](maxSearches),
		pages: web.NewMemo[string, []byte](maxPages)}
}

// Register registers the routes under /{lang}.
func (h *Public) Register(r fiber.Router) {
	r.Get("/trace-the-face", h.list)      // the gallery: search, filters with counts, pages
	r.Get("/trace-the-face/:ref", h.show) // one photo and the "Do you have information?" form
}

// RegisterMedia registers /media/{ref}/{width}.jpg.
func (h *Public) RegisterMedia(app *fiber.App) {
	app.Get("/media/:ref/:file", h.media) // a photo, only while its entry is published
}

// Option is a filter value with its count.
type Option struct {
	Value, Label string
	Count        int64
	Selected     bool
}

// Filter is one filter of the gallery.
type Filter struct {
	Name, Label string
	Options     []Option
}

// Card is one photo in the grid.
type Card struct {
	Ref, LookingFor, From, Alt, Href string
	Src, SrcSet                      string
	Demo                             bool
	DemoLabel                        string
}

// ListPage is the data of the gallery page.
type ListPage struct {
	web.Base
	Query    string
	Filters  []Filter
	Cards    []template.HTML // rendered by the "card" template of gallery/list
	Total    int64
	Page     int
	Pages    int
	PrevURL  string
	NextURL  string
	ClearURL string
	Degraded bool
	Reunited int64
	Filtered bool
}

func (h *Public) query(c *fiber.Ctx) (search.FaceQuery, error) {
	q := search.FaceQuery{
		Text: strings.TrimSpace(utils.CopyString(c.Query("q"))), Gender: utils.CopyString(c.Query("gender")),
		AgeGroup: utils.CopyString(c.Query("age")), Origin: strings.ToLower(utils.CopyString(c.Query("origin"))),
		Seeking: utils.CopyString(c.Query("seeking")), PerPage: 24, Page: 1,
	}
	if p := c.Query("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 10000 {
			return q, errors.New("gallery: bad page")
		}
		q.Page = n
	}
	for _, check := range []struct {
		v   string
		set []string
	}{{q.Gender, vocab.Genders.Codes()}, {q.AgeGroup, vocab.AgeGroups.Codes()}, {q.Seeking, vocab.Relationships.Codes()}} {
		if check.v != "" && !slices.Contains(check.set, check.v) {
			return q, errors.New("gallery: unknown filter value")
		}
	}
	if q.Origin != "" {
		if _, ok := h.data.Country(q.Origin); !ok {
			return q, errors.New("gallery: unknown origin")
		}
	}
	return q, nil
}

func (h *Public) list(c *fiber.Ctx) error {
	lang := web.Lang(c)
	if h.store == nil {
		return errors.New("gallery: no database")
	}
	q, err := h.query(c)
	if err != nil {
		return web.BadRequest(err)
	}
	ctx := c.UserContext()
	// A hit is shown only if PostgreSQL says it is published now, so that a
	// withdrawal shows at once, whatever the index says. While Meilisearch
	// searches, PostgreSQL is asked about the hits this search found last
	// time (and for the reunited count). The check still follows the
	// visitor's request, and when the hits are the same again, as they are
	// for the common searches, it costs no round trip after the search;
	// hits not seen before are checked once the search has answered.
	guess, _ := h.recent.Get(q)
	early := make(chan checked, 1)
	go func() {
		chk, err := h.store.CheckGallery(ctx, guess)
		early <- checked{chk, err}
	}()
	var entries []store.PublicEntry
	var total int64
	var facets map[string]map[string]int64
	degraded := h.search == nil
	var res *search.FaceResult
	if !degraded {
		sctx, cancel := context.WithTimeout(ctx, SearchBudget)
		res, err = h.search.SearchFaces(sctx, q)
		cancel()
		switch {
		case errors.Is(err, search.ErrBadQuery):
			return web.BadRequest(err)
		case err != nil:
			h.kit.Log.Warn("gallery: search unavailable, answering from PostgreSQL", "err", err)
			degraded = true
		}
	}
	chk := <-early
	if chk.err != nil {
		return chk.err
	}
	if !degraded {
		if entries, err = h.liveHits(ctx, lang.Code, q, res.Hits, guess, chk.Live); err != nil {
			return err
		}
		total, facets = res.Total-int64(len(res.Hits)-len(entries)), res.Facets
	}
	if degraded {
		p, err := h.store.SearchPublished(ctx, store.GalleryFilter{Gender: q.Gender, AgeGroup: q.AgeGroup, Origin: q.Origin,
			Seeking: q.Seeking, Page: q.Page, PerPage: q.PerPage})
		if err != nil {
			return err
		}
		entries, total, facets = p.Entries, p.Total, p.Facets
		if q.Text != "" {
			// Without the engine, only an exact reference can be found.
			entries = slices.DeleteFunc(entries, func(e store.PublicEntry) bool { return !strings.EqualFold(e.Ref, q.Text) })
			total = int64(len(entries))
		}
	}
	tr := h.kit.Catalog.Translator(lang.Code)
	page := &ListPage{Base: h.kit.Base(lang, "/trace-the-face", tr.T("GalleryTitle")), Query: q.Text, Total: total,
		Page: q.Page, Filtered: q.Text != "" || q.Gender != "" || q.AgeGroup != "" || q.Origin != "" || q.Seeking != ""}
	page.Degraded = degraded
	page.NoIndex = page.Filtered || q.Page > 1
	page.Pages = int((total + int64(q.PerPage) - 1) / int64(q.PerPage))
	page.Reunited = chk.Reunited
	page.Filters = h.filters(lang.Code, q, facets)
	base := "/" + lang.Code + "/trace-the-face"
	link := func(p int) string {
		v := url.Values{}
		for k, val := range map[string]string{"q": q.Text, "gender": q.Gender, "age": q.AgeGroup, "origin": q.Origin, "seeking": q.Seeking} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if p > 1 {
			v.Set("page", strconv.Itoa(p))
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	if q.Page > 1 {
		page.PrevURL = link(q.Page - 1)
	}
	if q.Page < page.Pages {
		page.NextURL = link(q.Page + 1)
	}
	page.ClearURL = base
	return h.render(c, page, entries)
}

// checked is CheckGallery's answer, sent from the goroutine that asked.
type checked struct {
	store.GalleryCheck
	err error
}

// liveHits returns the hits PostgreSQL says are published now. live holds
// its answer for guess, the hits this search found last time; the others
// are asked about now, while their cards are made.
func (h *Public) liveHits(ctx context.Context, code string, q search.FaceQuery, hits []search.Face, guess []string, live map[string]bool) ([]store.PublicEntry, error) {
	refs := make([]string, len(hits))
	var unseen []string
	for i, hit := range hits {
		refs[i] = hit.Ref
		if !slices.Contains(guess, hit.Ref) {
			unseen = append(unseen, hit.Ref)
		}
	}
	if len(unseen) > 0 {
		later := make(chan checked, 1)
		go func() {
			more, err := h.store.CheckGallery(ctx, unseen)
			later <- checked{more, err}
		}()
		// The cards are made as not demo (demo entries exist only on trial
		// sites). A card is kept whatever PostgreSQL answers, but shown only
		// for a live entry.
		for _, hit := range hits {
			if !slices.Contains(guess, hit.Ref) {
				if _, err := h.cardHTML(code, hitEntry(hit, false)); err != nil {
					return nil, err
				}
			}
		}
		more := <-later
		if more.err != nil {
			return nil, more.err
		}
		maps.Copy(live, more.Live)
	}
	h.recent.Put(q, refs)
	var entries []store.PublicEntry
	for _, hit := range hits {
		if demo, ok := live[hit.Ref]; ok {
			entries = append(entries, hitEntry(hit, demo))
		}
	}
	return entries, nil
}

// render sends the gallery page. Its content is the same for every visitor
// who gets the same hits, counts and language: it is kept under a key made
// of all of them.
func (h *Public) render(c *fiber.Ctx, page *ListPage, entries []store.PublicEntry) error {
	code := page.Lang.Code
	keys := make([]cardKey, len(entries))
	for i, e := range entries {
		keys[i] = keyOf(code, e)
	}
	key := page.contentKey(keys)
	content, ok := h.pages.Get(key)
	if !ok {
		for _, e := range entries {
			html, err := h.cardHTML(code, e)
			if err != nil {
				return err
			}
			page.Cards = append(page.Cards, html)
		}
		html, err := h.kit.Views.ExecuteFragment("gallery/list", "content", page)
		if err != nil {
			return err
		}
		content = []byte(html)
		h.pages.Put(key, content)
	}
	b, err := h.kit.Views.Wrap("gallery/list", page, content)
	if err != nil {
		return err
	}
	return web.SendPage(c, b)
}

// contentKey is made of everything the content of the gallery page shows:
// every field of p but Cards, which keys stand for (TestContentKey).
func (p *ListPage) contentKey(keys []cardKey) string {
	var k strings.Builder
	add := func(vs ...string) {
		for _, v := range vs {
			k.WriteString(v)
			k.WriteByte(0)
		}
	}
	num := func(n int64) string { return strconv.FormatInt(n, 10) }
	flag := strconv.FormatBool
	add(p.Lang.Code, p.Query, num(p.Total), num(int64(p.Page)), num(int64(p.Pages)), p.PrevURL, p.NextURL, p.ClearURL,
		flag(p.Degraded), num(p.Reunited), flag(p.Filtered))
	for _, f := range p.Filters {
		add("f", f.Name, f.Label)
		for _, o := range f.Options {
			add(o.Value, o.Label, num(o.Count), flag(o.Selected))
		}
	}
	for _, c := range keys {
		add("c", c.ref, c.origin, c.seeking, flag(c.demo))
	}
	return k.String()
}

// hitEntry is a search hit as an entry, demo or not as PostgreSQL says.
func hitEntry(hit search.Face, demo bool) store.PublicEntry {
	return store.PublicEntry{Ref: hit.Ref, Demo: demo, Gender: hit.Gender, AgeGroup: hit.AgeGroup,
		Seeking: hit.Seeking, Origin: hit.Origin, Languages: hit.Languages, PublishedAt: time.Unix(hit.PublishedAt, 0)}
}

// cardHTML is e's card in a language, rendered once and then kept.
func (h *Public) cardHTML(code string, e store.PublicEntry) (template.HTML, error) {
	k := keyOf(code, e)
	if html, ok := h.cards.Get(k); ok {
		return html, nil
	}
	html, err := h.kit.Views.ExecuteFragment("gallery/list", "card", h.card(code, e))
	if err != nil {
		return "", err
	}
	h.cards.Put(k, html)
	return html, nil
}

// card builds a grid card in a language.
func (h *Public) card(code string, e store.PublicEntry) Card {
	tr := h.kit.Catalog.Translator(code)
	words := make([]string, len(e.Seeking))
	for i, s := range e.Seeking {
		m, _ := vocab.Relationships.Message(s)
		words[i] = tr.T(m)
	}
	card := Card{
		Ref: e.Ref, Demo: e.Demo, Href: "/" + code + "/trace-the-face/" + e.Ref,
		LookingFor: tr.T("GalleryLookingFor", "List", strings.Join(words, ", ")),
		From:       tr.T("GalleryFrom", "Country", tr.Country(e.Origin)),
		Alt:        tr.T("PhotoAlt", "Ref", e.Ref),
		Src:        "/media/" + e.Ref + "/320.jpg",
		SrcSet:     "/media/" + e.Ref + "/320.jpg 320w, /media/" + e.Ref + "/640.jpg 640w",
	}
	if e.Demo {
		card.DemoLabel = tr.T("GalleryDemo")
	}
	return card
}

func (h *Public) filters(code string, q search.FaceQuery, facets map[string]map[string]int64) []Filter {
	tr := h.kit.Catalog.Translator(code)
	mk := func(name, label, field, selected string, values []string, labelOf func(string) string) Filter {
		f := Filter{Name: name, Label: tr.T(label)}
		for _, v := range values {
			n := facets[field][v]
			if n == 0 && v != selected {
				continue
			}
			f.Options = append(f.Options, Option{Value: v, Label: labelOf(v), Count: n, Selected: v == selected})
		}
		return f
	}
	label := func(l vocab.List) func(string) string {
		return func(v string) string { m, _ := l.Message(v); return tr.T(m) }
	}
	var origins []string
	for _, it := range h.kit.Countries.Sorted(code) {
		origins = append(origins, it.ISO2)
	}
	return []Filter{
		mk("origin", "GalleryOrigin", "origin", q.Origin, origins, tr.Country),
		mk("seeking", "GallerySeeking", "seeking", q.Seeking, vocab.Relationships.Codes(), label(vocab.Relationships)),
		mk("gender", "GalleryGender", "gender", q.Gender, vocab.Genders.Codes(), label(vocab.Genders)),
		mk("age", "GalleryAgeGroup", "age_group", q.AgeGroup, vocab.AgeGroups.Codes(), label(vocab.AgeGroups)),
	}
}

// ShowPage is the data of a photo's page.
type ShowPage struct {
	web.Base
	Card      Card
	Large     string
	Speaks    string
	Published string
	Form      web.InfoForm
}

// ErrPhotoGone is the answer for a photo that is not published: withdrawn,
// demo-only or never published, all alike.
var ErrPhotoGone error = &web.Error{Status: fiber.StatusNotFound, Title: "PhotoGoneTitle", Text: "PhotoGoneText"}

func (h *Public) show(c *fiber.Ctx) error {
	lang := web.Lang(c)
	if h.store == nil {
		return errors.New("gallery: no database")
	}
	ref := utils.CopyString(c.Params("ref"))
	e, err := h.store.PublicEntryByRef(c.UserContext(), ref)
	tr := h.kit.Catalog.Translator(lang.Code)
	if errors.Is(err, store.ErrWithdrawn) || errors.Is(err, store.ErrNotFound) {
		// Withdrawn and never published answer alike: told apart, they
		// would say which references once existed, beside the public
		// count of families found.
		return ErrPhotoGone
	}
	if err != nil {
		return err
	}
	p := &ShowPage{Base: h.kit.Base(lang, "/trace-the-face/"+e.Ref, tr.T("PhotoTitle", "Ref", e.Ref)), Card: h.card(lang.Code, e),
		Large: "/media/" + e.Ref + "/1280.jpg", Published: tr.Date(e.PublishedAt.UTC())}
	p.NoIndex = true
	if len(e.Languages) > 0 {
		names := display.Languages(lang.Tag)
		var list []string
		for _, l := range e.Languages {
			if l == "prs" {
				l = "fa-AF" // Dari: CLDR names it under its macrolanguage's regional tag
			}
			t, err := language.Parse(l)
			if err == nil && names != nil && names.Name(t) != "" {
				list = append(list, names.Name(t))
			} else {
				list = append(list, l)
			}
		}
		p.Speaks = tr.T("PhotoSpeaks", "List", strings.Join(list, ", "))
	}
	p.Form = h.kit.NewInfoForm(h.csrf.Token(c), e.Ref, lang.Code)
	return web.RenderCompressed(c, h.kit.Views, "gallery/show", p)
}

func (h *Public) media(c *fiber.Ctx) error {
	if h.store == nil {
		return web.NotFound()
	}
	ref := utils.CopyString(c.Params("ref"))
	w, err := strconv.Atoi(strings.TrimSuffix(c.Params("file"), ".jpg"))
	if err != nil || !strings.HasSuffix(c.Params("file"), ".jpg") || w < 1 || w > 4096 {
		return web.NotFound()
	}
	ctx := c.UserContext()
	n, _, err := h.store.Hit(ctx, "media:"+web.ClientKey(c), time.Minute)
	if err != nil {
		return err
	}
	if n > MediaPerMinute {
		c.Set(fiber.HeaderRetryAfter, "60")
		return fiber.ErrTooManyRequests
	}
	p, err := h.store.GalleryPhotoNear(ctx, ref, w)
	if errors.Is(err, store.ErrNotFound) {
		return web.NotFound()
	}
	if err != nil {
		return err
	}
	c.Set("X-Robots-Tag", "noindex, noimageindex")
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Set(fiber.HeaderETag, p.ETag)
	// Revalidated on every view, so that a withdrawal takes effect at once.
	c.Set(fiber.HeaderCacheControl, "private, no-cache")
	if c.Get(fiber.HeaderIfNoneMatch) == p.ETag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	return c.Send(p.JPEG)
}
