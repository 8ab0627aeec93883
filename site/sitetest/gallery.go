package sitetest

import (
	"bytes"
	"context"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/photo"
	"github.com/familylinks/familylinks/site/store"
)

// Publish stores an entry of the German Red Cross with a generated photo,
// created by a@drk.example and approved by b@drk.example (two accounts the
// test has made), as two caseworkers would.
func (e *Env) Publish(t testing.TB, ref, gender, origin string, seeking ...string) store.GalleryEntry {
	t.Helper()
	return e.PublishBy(t, "de", "drk", ref, gender, origin, seeking...)
}

// PublishBy is Publish for the Society with code society, whose two
// caseworkers a@{domain}.example and b@{domain}.example the test has made;
// the case reference is "{DOMAIN}-CASE-SECRET".
func (e *Env) PublishBy(t testing.TB, society, domain, ref, gender, origin string, seeking ...string) store.GalleryEntry {
	t.Helper()
	ctx := context.Background()
	a, errA := e.Store.StaffByEmail(ctx, "a@"+domain+".example")
	b, errB := e.Store.StaffByEmail(ctx, "b@"+domain+".example")
	if errA != nil || errB != nil {
		t.Fatalf("publishing needs the accounts a@%s.example and b@%s.example: %v, %v", domain, domain, errA, errB)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo.Silhouette(int64(len(ref)), 400, 500), nil); err != nil {
		t.Fatal(err)
	}
	ds, err := photo.Process(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var photos []store.Photo
	for _, d := range ds {
		photos = append(photos, store.Photo{Width: d.Width, Height: d.Height, JPEG: d.JPEG, ETag: `"` + ref + `"`})
	}
	en, err := e.Store.CreateGalleryEntry(ctx, store.GalleryEntry{
		Ref: ref, Society: society, Gender: gender, AgeGroup: "30-44", Seeking: seeking, Origin: origin, Languages: []string{"ps"},
		CaseKeyID: "k", CaseSealed: []byte(strings.ToUpper(domain) + "-CASE-SECRET"), ConsentDate: time.Now(), ConsentFormVersion: "v1",
		ConsentRecordedBy: "Ana", ReviewDate: time.Now().AddDate(1, 0, 0), CreatedBy: a.ID,
	}, photos)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Store.ApproveGalleryEntry(ctx, en.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	return en
}
