package gallery_test

import (
	"compress/gzip"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

func publish(t *testing.T, e *sitetest.Env, ref, gender, origin string, seeking ...string) store.GalleryEntry {
	return e.Publish(t, ref, gender, origin, seeking...)
}

func cards(p sitetest.Page) []string {
	var out []string
	for _, part := range strings.Split(p.Body, `class="ref" dir="ltr">`)[1:] {
		out = append(out, part[:strings.Index(part, "<")])
	}
	return out
}

// TestGalleryJourneyInPashto: in Pashto, filter the gallery to people from
// Afghanistan looking for a mother, open one, send information; the
// publishing Society gets it. Withdraw the entry: it is gone at once from
// the gallery, the photo page and the media, before the index catches up.
func TestGalleryJourneyInPashto(t *testing.T) {
	sc := searchClient(t)
	e := sitetest.New(t, sc)
	ctx := context.Background()
	e.Account(t, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "b@drk.example", "de", store.RoleCaseworker)
	x := &gallery.Indexer{Store: e.Store, Search: sc, Catalog: e.Catalog}
	w := &store.Worker{Store: e.Store, Handlers: x.Handlers(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	target := publish(t, e, "TTF-7Q4K2", "female", "af", "mother", "brother")
	publish(t, e, "TTF-2B8MX", "male", "af", "father")
	publish(t, e, "TTF-9PL3D", "female", "so", "mother")
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	b := e.Browser(t)
	list := b.Get("/ps/trace-the-face?origin=af&seeking=mother")
	if list.Status != 200 || strings.Join(cards(list), ",") != "TTF-7Q4K2" {
		t.Fatalf("filtered gallery: %d %v", list.Status, cards(list))
	}
	if !strings.Contains(list.Body, `<html lang="ps" dir="rtl">`) {
		t.Error("the gallery must be in Pashto, right to left")
	}
	// Counts beside each value, over the current selection.
	if !strings.Contains(list.Body, `<option value="af" selected>`) {
		t.Error("the chosen origin must stay selected")
	}
	all := b.Get("/ps/trace-the-face")
	if !strings.Contains(all.Body, "(2)</option>") || len(cards(all)) != 3 {
		t.Errorf("unfiltered: %v; want a count of 2 for Afghanistan", cards(all))
	}
	for _, q := range []string{"afganistan", "افغانستان", "TTF-9PL3D"} {
		r := b.Get("/ps/trace-the-face?q=" + url.QueryEscape(q))
		if len(cards(r)) == 0 {
			t.Errorf("search %q found nothing", q)
		}
	}
	for _, secret := range []string{"German Red Cross", "DRK-CASE-SECRET", "Ana"} {
		if strings.Contains(all.Body, secret) {
			t.Errorf("the gallery shows %q", secret)
		}
	}
	show := b.Get("/ps/trace-the-face/TTF-7Q4K2")
	if show.Status != 200 || !strings.Contains(show.Body, `name="about" value="TTF-7Q4K2"`) || strings.Contains(show.Body, "German Red Cross") {
		t.Fatalf("photo page: %d", show.Status)
	}
	img := b.Get("/media/TTF-7Q4K2/640.jpg")
	if img.Status != 200 || img.Header.Get("X-Robots-Tag") == "" || img.Header.Get("Cross-Origin-Resource-Policy") != "same-origin" || !strings.HasPrefix(img.Body, "\xff\xd8") {
		t.Fatalf("media: %d %v", img.Status, img.Header)
	}
	if strings.Contains(img.Body, "Exif") {
		t.Error("a served photo carries EXIF")
	}
	if r := b.Do("GET", "/media/TTF-7Q4K2/640.jpg", nil); r.Status != 200 {
		t.Fatal(r.Status)
	}
	info := url.Values{"_csrf": {sitetest.CSRF(t, show)}, "about": {"TTF-7Q4K2"}, "message": {"I think she is my cousin's neighbour in Kabul."},
		"name": {"ګل"}, "phone": {"+49 30 1234567"}, "residence": {"de"}, "lang": {"ps"}}
	// Without consent the form comes back in Pashto, about the same photo,
	// with everything typed still there.
	refused := b.Do("POST", "/ps/contact", info)
	if refused.Status != http.StatusUnprocessableEntity || !strings.Contains(refused.Body, `<html lang="ps" dir="rtl">`) ||
		!strings.Contains(refused.Body, `name="about" value="TTF-7Q4K2"`) || !strings.Contains(refused.Body, `value="ګل"`) ||
		!strings.Contains(refused.Body, "cousin&#39;s neighbour in Kabul.</textarea>") ||
		!strings.Contains(refused.Body, e.Catalog.Translator("ps").T("ErrConsent")) {
		t.Fatalf("information without consent: %d; want 422 in Pashto with the input kept", refused.Status)
	}
	info.Set("consent", "yes")
	res := b.Do("POST", "/ps/contact", info)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("information: %d", res.Status)
	}
	list2, _ := e.Store.Enquiries(ctx, store.EnquiryFilter{})
	if len(list2) != 1 || list2[0].Kind != "gallery" || list2[0].Inbox != "de" || list2[0].GalleryRef == nil || *list2[0].GalleryRef != "TTF-7Q4K2" || list2[0].RouteReason != "gallery-publisher" {
		t.Fatalf("the information must reach the publishing Society: %+v", list2)
	}
	// The confirmation gives the reference and names no Society, country
	// or website: the publisher would tell where the person lives.
	sent := b.Get(res.Header.Get("Location"))
	for _, leak := range []string{"German Red Cross", "Deutsches Rotes Kreuz", "drk.de", "/countries/de", e.Catalog.Translator("ps").Country("de")} {
		if strings.Contains(sent.Body, leak) {
			t.Errorf("the confirmation of information about a photo names %q", leak)
		}
	}
	if sent.Status != 200 || !strings.Contains(sent.Body, list2[0].Reference) || !strings.Contains(sent.Body, e.Catalog.Translator("ps").T("SentInfoLead")) {
		t.Fatalf("confirmation: %d, want the reference and the information wording", sent.Status)
	}
	// The page has been seen, so the site keeps its hits, cards and
	// content; seen again, it is the same.
	for range 2 {
		if got := cards(b.Get("/ps/trace-the-face?origin=af")); strings.Join(got, ",") != "TTF-2B8MX,TTF-7Q4K2" {
			t.Fatalf("gallery of people from Afghanistan: %v", got)
		}
	}
	// Withdraw; the index has not caught up yet.
	if err := e.Store.WithdrawGalleryEntry(ctx, target.ID, store.WithdrawFamilyFound); err != nil {
		t.Fatal(err)
	}
	// A search never made before checks its hits after the search.
	if got := cards(b.Get("/ps/trace-the-face?origin=af&gender=female")); len(got) != 0 {
		t.Errorf("a withdrawn entry is shown to a new search: %v", got)
	}
	for range 2 {
		got := b.Get("/ps/trace-the-face?origin=af")
		if strings.Join(cards(got), ",") != "TTF-2B8MX" || !strings.Contains(got.Body, e.Catalog.Translator("ps").N("GalleryCount", 1)) {
			t.Errorf("a withdrawn entry is still shown, or counted: %v", cards(got))
		}
	}
	// Withdrawn and never published answer alike, on the page, the media
	// and the information form: nothing tells which references existed.
	gone, never := b.Get("/ps/trace-the-face/TTF-7Q4K2"), b.Get("/ps/trace-the-face/TTF-7Q4K3")
	if gone.Status != http.StatusNotFound || never.Status != gone.Status ||
		strings.ReplaceAll(never.Body, "TTF-7Q4K3", "TTF-7Q4K2") != gone.Body {
		t.Errorf("withdrawn photo page: %d, never published: %d; want the same 404 page", gone.Status, never.Status)
	}
	if !strings.Contains(gone.Body, e.Catalog.Translator("ps").T("PhotoGoneText")) {
		t.Error("the page for a photo no longer shown must say why it may be gone")
	}
	if a, b := b.Get("/media/TTF-7Q4K2/320.jpg"), b.Get("/media/TTF-7Q4K3/320.jpg"); a.Status != b.Status || a.Body != b.Body {
		t.Errorf("media of a withdrawn photo %d, of a never published one %d", a.Status, b.Status)
	}
	infoAbout := func(ref string) sitetest.Page {
		f := url.Values{"_csrf": {sitetest.CSRF(t, b.Get("/ps/contact"))}, "about": {ref}, "message": {"x"},
			"name": {"Gul"}, "phone": {"+49 30 1234567"}, "residence": {"de"}, "lang": {"ps"}, "consent": {"yes"}}
		return b.Do("POST", "/ps/contact", f)
	}
	if a, n := infoAbout("TTF-7Q4K2"), infoAbout("TTF-7Q4K3"); a.Status != http.StatusNotFound || a.Status != n.Status ||
		strings.ReplaceAll(n.Body, "TTF-7Q4K3", "TTF-7Q4K2") != stripCSRF(a.Body, n.Body) {
		t.Errorf("information about a withdrawn photo %d, a never published one %d; want the same 404", a.Status, n.Status)
	}
	if r := b.Get("/media/TTF-7Q4K2/640.jpg"); r.Status != http.StatusNotFound {
		t.Errorf("withdrawn media: %d", r.Status)
	}
	if r := b.Get("/ps/trace-the-face"); !strings.Contains(r.Body, e.Catalog.Translator("ps").N("GalleryReunited", 1)) {
		t.Error("the reunited count must show")
	}
	if r := b.Get("/ps/trace-the-face?gender=robot"); r.Status != http.StatusBadRequest {
		t.Errorf("bad filter: %d", r.Status)
	}
}

// TestGalleryDegraded answers from PostgreSQL when Meilisearch is down.
func TestGalleryDegraded(t *testing.T) {
	gone, err := search.New(search.Config{URL: "http://127.0.0.1:1", SearchWithAPIKey: true})
	if err != nil {
		t.Fatal(err)
	}
	checkDegraded(t, gone)
}

// checkDegraded: with sc failing, the gallery answers from PostgreSQL, says
// so, filters and keeps its counts.
func checkDegraded(t *testing.T, sc *search.Client) {
	t.Helper()
	e := sitetest.New(t, sc)
	e.Account(t, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "b@drk.example", "de", store.RoleCaseworker)
	publish(t, e, "TTF-7Q4K2", "female", "af", "mother")
	publish(t, e, "TTF-9PL3D", "female", "so", "mother")
	b := e.Browser(t)
	r := b.Get("/en/trace-the-face?origin=so")
	if r.Status != 200 || strings.Join(cards(r), ",") != "TTF-9PL3D" || !strings.Contains(r.Body, e.Catalog.Translator("en").T("GalleryDegraded")) {
		t.Fatalf("degraded: %d %v", r.Status, cards(r))
	}
	if all := b.Get("/en/trace-the-face"); !strings.Contains(all.Body, "Somalia (1)") || !strings.Contains(all.Body, "mother (2)") {
		t.Error("degraded mode keeps the counts")
	}
}

// TestDemoEntries: seeded demo photos are silhouettes, marked as examples,
// and take no information.
func TestDemoEntries(t *testing.T) {
	e := sitetest.New(t)
	ctx := context.Background()
	n, err := gallery.SeedDemo(ctx, e.Store, e.Keys, 3)
	if err != nil || n != 3 {
		t.Fatalf("seed: %d %v", n, err)
	}
	list := e.Browser(t).Get("/en/trace-the-face")
	refs := cards(list)
	if len(refs) != 3 || strings.Count(list.Body, e.Catalog.Translator("en").T("GalleryDemo")) != 3 {
		t.Fatalf("demo gallery: %v", refs)
	}
	b := e.Browser(t)
	show := b.Get("/en/trace-the-face/" + refs[0])
	if show.Status != 200 || strings.Contains(show.Body, `name="about"`) {
		t.Fatalf("a demo photo must offer no information form: %d", show.Status)
	}
	res := b.Do("POST", "/en/contact", url.Values{"_csrf": {sitetest.CSRF(t, b.Get("/en/contact"))}, "about": {refs[0]}, "message": {"x"},
		"name": {"Gul"}, "phone": {"+49 30 1234567"}, "residence": {"de"}, "lang": {"en"}, "consent": {"yes"}})
	if res.Status != http.StatusNotFound {
		t.Errorf("information about a demo photo: %d, want 404", res.Status)
	}
	if c, _ := e.Store.CountEnquiries(ctx); c != 0 {
		t.Errorf("%d enquiries stored about a demo photo", c)
	}
	if img := b.Get("/media/" + refs[0] + "/320.jpg"); img.Status != 200 {
		t.Errorf("demo photo: %d", img.Status)
	}

	// The same gallery answered by Meilisearch marks them too.
	sc := searchClient(t)
	es := sitetest.New(t, sc)
	if _, err := gallery.SeedDemo(ctx, es.Store, es.Keys, 3); err != nil {
		t.Fatal(err)
	}
	x := &gallery.Indexer{Store: es.Store, Search: sc, Catalog: es.Catalog}
	w := &store.Worker{Store: es.Store, Handlers: x.Handlers(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	list = es.Browser(t).Get("/en/trace-the-face")
	if refs := cards(list); len(refs) != 3 || strings.Contains(list.Body, es.Catalog.Translator("en").T("GalleryDegraded")) ||
		strings.Count(list.Body, es.Catalog.Translator("en").T("GalleryDemo")) != 3 {
		t.Errorf("demo entries found through Meilisearch: %v, with %d demo marks, want 3", refs,
			strings.Count(list.Body, es.Catalog.Translator("en").T("GalleryDemo")))
	}
}

// TestGalleryInEveryLanguage renders the gallery and a photo page in all ten
// languages, with the right direction.
func TestGalleryInEveryLanguage(t *testing.T) {
	e := sitetest.New(t)
	refs, err := gallery.SeedDemo(context.Background(), e.Store, e.Keys, 1)
	if err != nil || refs != 1 {
		t.Fatal(err)
	}
	b := e.Browser(t)
	ref := cards(b.Get("/en/trace-the-face"))[0]
	english := e.Catalog.Translator("en").T("GalleryDemo")
	for _, l := range e.Catalog.Languages() {
		for _, p := range []string{"/trace-the-face", "/trace-the-face/" + ref} {
			r := b.Get("/" + l.Code + p)
			if r.Status != 200 || !strings.Contains(r.Body, `<html lang="`+l.HrefLang()+`" dir="`+l.Dir()+`">`) {
				t.Errorf("%s%s: %d", l.Code, p, r.Status)
			}
			// The grid's cards and the page's content are kept per
			// language: one language's never show in another's page.
			own := e.Catalog.Translator(l.Code).T("GalleryDemo")
			if !strings.Contains(r.Body, own) || (own != english && strings.Contains(r.Body, english)) {
				t.Errorf("%s%s: the demo mark is not in the page's language", l.Code, p)
			}
		}
	}
}

// TestGalleryCompressed: the gallery and a photo's page are sent
// compressed to a phone that accepts it.
func TestGalleryCompressed(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "b@drk.example", "de", store.RoleCaseworker)
	e.Publish(t, "TTF-7Q4K2", "female", "af", "mother")
	b := e.Browser(t)
	b.Header.Set("Accept-Encoding", "gzip, deflate, br")
	list := b.Get("/so/trace-the-face")
	if list.Status != 200 || list.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(list.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gallery: %d, Content-Encoding %q, Vary %q; want 200 gzipped, varying by Accept-Encoding",
			list.Status, list.Header.Get("Content-Encoding"), list.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(strings.NewReader(list.Body))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil || !strings.Contains(string(body), "TTF-7Q4K2") {
		t.Fatalf("the compressed gallery does not decode to the page: %v", err)
	}
	if len(list.Body)*2 > len(body) {
		t.Errorf("compressed %d bytes to %d", len(body), len(list.Body))
	}
	// The photo page carries a token, fresh and salted on every page, so
	// it too may be compressed.
	if show := b.Get("/so/trace-the-face/TTF-7Q4K2"); show.Status != 200 || show.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("photo page: %d, Content-Encoding %q; want it gzipped", show.Status, show.Header.Get("Content-Encoding"))
	}
}

// stripCSRF returns a with its form token replaced by the one in b, so two
// forms can be compared.
func stripCSRF(a, b string) string {
	ta, tb := csrfValue(a), csrfValue(b)
	if ta == "" || tb == "" {
		return a
	}
	return strings.ReplaceAll(a, ta, tb)
}

func csrfValue(s string) string {
	const k = `name="_csrf" value="`
	i := strings.Index(s, k)
	if i < 0 {
		return ""
	}
	s = s[i+len(k):]
	return s[:strings.IndexByte(s, '"')]
}
