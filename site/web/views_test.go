package web

import (
	"bytes"
	"html/template"
	"io"
	"log/slog"
	"reflect"
	"testing"

	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/keytest"
	"github.com/familylinks/familylinks/site/views"
)

func testKit(t *testing.T) *Kit {
	t.Helper()
	cat, err := locales.Load(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := ParseViews(views.FS, "pages")
	if err != nil {
		t.Fatal(err)
	}
	return &Kit{Catalog: cat, BaseURL: "https://familylinks.example", Views: v,
		Assets: Assets{CSS: "/static/site.1.css", Icon: "/static/icon.1.svg", Style: "body{margin:0}"}}
}

// inChrome renders a page as the gallery does: its content, then Wrap.
func inChrome(v *Views, name string, data Page) ([]byte, error) {
	content, err := v.ExecuteFragment(name, "content", data)
	if err != nil {
		return nil, err
	}
	return v.Wrap(name, data, []byte(content))
}

// TestWrap: a page put together from a kept layout is the page
// rendered whole, in every language, indexed or not, the first time and
// when the layout comes from memory; and one language's layout never
// serves another.
func TestWrap(t *testing.T) {
	k := testKit(t)
	for range 2 {
		for _, l := range k.Catalog.Languages() {
			for _, noindex := range []bool{false, true} {
				b := k.Base(l, "/privacy", k.Catalog.Translator(l.Code).T("PrivacyTitle"))
				b.NoIndex = noindex
				want, err := k.Views.Execute("pages/privacy", &b)
				if err != nil {
					t.Fatal(err)
				}
				got, err := inChrome(k.Views, "pages/privacy", &b)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s noindex=%v: the page in a kept layout differs from the page rendered whole", l.Code, noindex)
				}
			}
		}
	}
	if n := k.Views.chrome.Len(); n != 2*len(k.Catalog.Languages()) {
		t.Errorf("%d layouts kept, want one per language and robots setting", n)
	}
}

// TestChromeKeyCoversBase fails when a field of Base, which the layout may
// read, is left out of the key its rendered layout is kept under.
func TestChromeKeyCoversBase(t *testing.T) {
	k := testKit(t)
	ar, _ := k.Catalog.Lookup("ar")
	base := k.Base(ar, "/trace-the-face", "title")
	key := base.chromeKey()
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Name == "Tr" {
			continue // the translator of Lang
		}
		for _, changed := range keytest.Variants(reflect.ValueOf(base).Field(i)) {
			b := base
			reflect.ValueOf(&b).Elem().Field(i).Set(changed)
			if b.chromeKey() == key {
				t.Errorf("changing Base.%s to %v leaves the layout's key unchanged", f.Name, changed)
			}
		}
	}
}

// TestChromeBounded: a page that promises few layouts and breaks the promise
// costs renders, not memory.
func TestChromeBounded(t *testing.T) {
	k := testKit(t)
	en := k.Catalog.Default()
	for i := range maxChrome + 50 {
		b := k.Base(en, "/privacy", template.HTMLEscapeString(string(rune('a'+i%26)))+string(rune(i)))
		if _, err := inChrome(k.Views, "pages/privacy", &b); err != nil {
			t.Fatal(err)
		}
	}
	if n := k.Views.chrome.Len(); n != maxChrome {
		t.Errorf("%d layouts kept, want the bound %d", n, maxChrome)
	}
}
