package staff_test

import (
	"bytes"
	"context"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/photo"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

func silhouettePNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, photo.Silhouette(7, 900, 1200)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func entryFields(tok string) url.Values {
	return url.Values{"_csrf": {tok}, "gender": {"female"}, "age_group": {"30-44"}, "seeking": {"mother", "brother"},
		"origin": {"af"}, "languages": {"prs, ps"}, "case_ref": {"DRK-2026-0042"}, "consent_date": {time.Now().Format(time.DateOnly)},
		"consent_version": {"TTF-consent v3"}, "consent_by": {"Ana Schmidt"}, "review_date": {time.Now().AddDate(1, 0, 0).Format(time.DateOnly)}}
}

// TestPublishWithSecondPerson: one caseworker creates an entry, she cannot
// publish it herself, a colleague of the same Society can, another
// Society sees nothing, and a withdrawal deletes the photo.
func TestPublishWithSecondPerson(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "ben@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "luc@croix-rouge.example", "fr", store.RoleCaseworker)
	ana := e.Browser(t)
	ana.Login("ana@drk.example", sitetest.Password)
	form := ana.Get("/staff/gallery/new")
	tok := sitetest.CSRF(t, form)
	bad := ana.Upload("/staff/gallery", entryFields(tok), "photo", "face.gif", []byte("GIF89a not an image"))
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.Body, "not a JPEG or PNG") || !strings.Contains(bad.Body, `value="DRK-2026-0042"`) {
		t.Fatalf("a bad photo: %d; the error shown and the fields kept", bad.Status)
	}
	young := entryFields(tok)
	young.Set("age_group", "10-14")
	if res := ana.Upload("/staff/gallery", young, "photo", "p.png", silhouettePNG(t)); res.Status != http.StatusUnprocessableEntity {
		t.Errorf("under 15: %d", res.Status)
	}
	res := ana.Upload("/staff/gallery", entryFields(tok), "photo", "p.png", silhouettePNG(t))
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create: %d %s", res.Status, res.Body[:min(300, len(res.Body))])
	}
	ref := strings.TrimPrefix(res.Header.Get("Location"), "/staff/gallery/")
	ctx := context.Background()
	en, err := e.Store.GalleryEntryByRef(ctx, ref)
	if err != nil || en.Status != "pending" || en.Society != "de" || bytes.Contains(en.CaseSealed, []byte("DRK-2026")) {
		t.Fatalf("stored %+v %v (case reference must be sealed)", en, err)
	}
	widths, _ := e.Store.GalleryWidths(ctx, en.ID)
	if len(widths) != 3 || widths[0] != 320 || widths[2] != 900 {
		t.Errorf("derivative widths %v", widths)
	}
	page := ana.Get("/staff/gallery/" + ref)
	if strings.Contains(page.Body, "Approve and publish") {
		t.Error("the creator is offered to approve her own entry")
	}
	if r := ana.Do("POST", "/staff/gallery/"+ref+"/approve", url.Values{"_csrf": {sitetest.CSRF(t, page)}}); r.Status != http.StatusForbidden {
		t.Errorf("self-approval: %d", r.Status)
	}
	luc := e.Browser(t)
	luc.Login("luc@croix-rouge.example", sitetest.Password)
	ltok := sitetest.CSRF(t, luc.Get("/staff/"))
	for _, r := range []sitetest.Page{
		luc.Get("/staff/gallery/" + ref), luc.Get("/staff/gallery/" + ref + "/photo/320.jpg"),
		luc.Do("POST", "/staff/gallery/"+ref+"/approve", url.Values{"_csrf": {ltok}}),
		luc.Do("POST", "/staff/gallery/"+ref+"/withdraw", url.Values{"_csrf": {ltok}, "reason": {"other"}}),
	} {
		if r.Status != http.StatusNotFound {
			t.Errorf("the French Red Cross reached a German entry: %d", r.Status)
		}
	}
	if strings.Contains(luc.Get("/staff/gallery").Body, ref) {
		t.Error("the French list shows a German entry")
	}
	ben := e.Browser(t)
	ben.Login("ben@drk.example", sitetest.Password)
	bpage := ben.Get("/staff/gallery/" + ref)
	if !strings.Contains(bpage.Body, "Approve and publish") || !strings.Contains(bpage.Body, "DRK-2026-0042") {
		t.Fatal("a colleague must be offered to approve, and see the case reference")
	}
	if r := ben.Do("POST", "/staff/gallery/"+ref+"/approve", url.Values{"_csrf": {sitetest.CSRF(t, bpage)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("approve: %d", r.Status)
	}
	if _, err := e.Store.PublicEntryByRef(ctx, ref); err != nil {
		t.Fatalf("published: %v", err)
	}
	if p, err := e.Store.GalleryPhoto(ctx, ref, 640); err != nil || !bytes.HasPrefix(p.JPEG, []byte{0xFF, 0xD8}) {
		t.Fatalf("the published photo is a JPEG: %v", err)
	}
	if r := ben.Do("POST", "/staff/gallery/"+ref+"/withdraw", url.Values{"_csrf": {sitetest.CSRF(t, bpage)}, "reason": {"family_found"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", r.Status)
	}
	if _, err := e.Store.GalleryPhoto(ctx, ref, 640); err == nil {
		t.Error("the photo outlived the withdrawal")
	}
	if w, _ := e.Store.GalleryWidths(ctx, en.ID); len(w) != 0 {
		t.Errorf("photos left after withdrawal: %v", w)
	}
	got := strings.Join(actions(t, e.Store), ",")
	for _, want := range []string{"gallery.create:ana@drk.example", "gallery.approve:ben@drk.example", "gallery.withdraw:ben@drk.example"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}
