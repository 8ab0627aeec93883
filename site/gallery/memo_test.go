package gallery

import (
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/keytest"
	"github.com/familylinks/familylinks/site/store"
	"github.com/familylinks/familylinks/site/views"
	"github.com/familylinks/familylinks/site/web"
)

// listPage is a gallery page as the handler fills it, without the engines.
func listPage(t *testing.T) (*Public, *ListPage, []cardKey) {
	t.Helper()
	cat, err := locales.Load(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	data, err := content.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := web.ParseViews(views.FS, "gallery")
	if err != nil {
		t.Fatal(err)
	}
	kit := &web.Kit{Catalog: cat, BaseURL: "https://familylinks.example", Views: v, Countries: web.NewCountryNames(cat, data.Codes())}
	h := NewPublic(kit, data, nil, nil, nil)
	q := search.FaceQuery{Origin: "af", Seeking: "mother", Page: 2, PerPage: 24}
	facets := map[string]map[string]int64{"origin": {"af": 30}, "seeking": {"mother": 30, "brother": 4}, "gender": {"female": 20, "male": 10}, "age_group": {"30-44": 30}}
	ar, _ := cat.Lookup("ar")
	p := &ListPage{Base: kit.Base(ar, "/trace-the-face", "gallery"), Query: "afganistan", Total: 30, Page: 2, Pages: 2, Reunited: 3,
		Filtered: true, PrevURL: "/ar/trace-the-face?origin=af&seeking=mother", ClearURL: "/ar/trace-the-face"}
	p.Filters = h.filters("ar", q, facets)
	var keys []cardKey
	for i := range 6 {
		e := store.PublicEntry{Ref: fmt.Sprintf("TTF-K%04d", i), Origin: "af", Seeking: []string{"mother", "brother"}, Demo: i == 0}
		keys = append(keys, keyOf("ar", e))
		html, err := v.ExecuteFragment("gallery/list", "card", h.card("ar", e))
		if err != nil {
			t.Fatal(err)
		}
		p.Cards = append(p.Cards, html)
	}
	return h, p, keys
}

// TestContentKey fails when something the gallery page's content shows is
// left out of the key its rendered content is kept under: a kept page would
// then be served for a different result.
func TestContentKey(t *testing.T) {
	h, p, keys := listPage(t)
	key := p.contentKey(keys)
	typ := reflect.TypeOf(*p)
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "Base" || f.Name == "Cards" {
			continue // the content reads only Base.Lang (TestContentReadsLangOnly); Cards stand for keys
		}
		for _, changed := range keytest.Variants(reflect.ValueOf(*p).Field(i)) {
			c := *p
			reflect.ValueOf(&c).Elem().Field(i).Set(changed)
			if c.contentKey(keys) == key {
				t.Errorf("changing ListPage.%s to %v leaves the key unchanged", f.Name, changed)
			}
		}
	}
	other := func(change func([]cardKey) []cardKey) {
		t.Helper()
		c := change(append([]cardKey(nil), keys...))
		if p.contentKey(c) == key {
			t.Errorf("other cards %v leave the key unchanged", c)
		}
	}
	other(func(c []cardKey) []cardKey { c[1].ref += "x"; return c })
	other(func(c []cardKey) []cardKey { c[1].origin = "so"; return c })
	other(func(c []cardKey) []cardKey { c[1].seeking = "mother"; return c })
	other(func(c []cardKey) []cardKey { c[1].demo = !c[1].demo; return c })
	other(func(c []cardKey) []cardKey { return c[:len(c)-1] })
	other(func(c []cardKey) []cardKey { return append(c, c[0]) })
	c := *p
	c.Lang, _ = h.kit.Catalog.Lookup("en")
	if c.contentKey(keys) == key {
		t.Error("another language leaves the key unchanged")
	}
}

// TestContentReadsLangOnly: the content of the gallery page is the same
// whatever its Base holds but the language, which is why only the language
// is in its key.
func TestContentReadsLangOnly(t *testing.T) {
	h, p, _ := listPage(t)
	want, err := h.kit.Views.ExecuteFragment("gallery/list", "content", p)
	if err != nil {
		t.Fatal(err)
	}
	c := *p
	c.Base = h.kit.Base(p.Lang, "/elsewhere", "another title")
	c.NoIndex = !p.NoIndex
	c.Switcher, c.Alternates, c.Canonical = nil, nil, ""
	got, err := h.kit.Views.ExecuteFragment("gallery/list", "content", &c)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Error("the gallery's content changed with a part of Base other than the language")
	}
}
