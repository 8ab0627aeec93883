package staff_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// noiseJPEG is a photo that does not compress: about 1.5 MB, far past the
// 64 KB any other route accepts.
func noiseJPEG(t *testing.T) []byte {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, 1000, 1300))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.IntN(256))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUploadStreamed: the upload is the one route that takes a large body,
// read as a stream after the session and its CSRF token; a form whose photo
// comes before its token is refused without the photo being read, and a
// photo over 10 MB is refused with every field kept.
func TestUploadStreamed(t *testing.T) {
	e := sitetest.New(t)
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	ana := e.Browser(t)
	ana.Login("ana@drk.example", sitetest.Password)
	tok := sitetest.CSRF(t, ana.Get("/staff/gallery/new"))
	big := noiseJPEG(t)
	if len(big) < 1<<20 {
		t.Fatalf("the test photo is only %d bytes", len(big))
	}
	res := ana.Upload("/staff/gallery", entryFields(tok), "photo", "big.jpg", big)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("a %d-byte photo: %d, want it stored", len(big), res.Status)
	}

	// The photo before the token: refused, nothing stored.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("photo", "p.jpg")
	_, _ = fw.Write(big)
	for k, vs := range entryFields(tok) {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	_ = mw.Close()
	req := httptest.NewRequest("POST", "/staff/gallery", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := ana.Send(req); r.Status != http.StatusForbidden {
		t.Errorf("photo before the CSRF token: %d, want 403", r.Status)
	}

	// Over 10 MB: the caseworker is told, and keeps what was typed.
	huge := append(big, bytes.Repeat([]byte{0}, 10<<20)...)
	res = ana.Upload("/staff/gallery", entryFields(tok), "photo", "huge.jpg", huge)
	if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "larger than 10 MB") || !strings.Contains(res.Body, `value="DRK-2026-0042"`) {
		t.Errorf("a photo over 10 MB: %d; want 422 with the reason and the fields kept", res.Status)
	}
	list, err := e.Store.GalleryEntries(context.Background(), "de", "")
	if err != nil || len(list) != 1 {
		t.Errorf("entries stored: %d %v, want only the good one", len(list), err)
	}

	// Signed out, a large upload is sent to the sign-in page unread.
	anon := e.Browser(t)
	if r := anon.Upload("/staff/gallery", entryFields("x"), "photo", "big.jpg", big); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/staff/login" {
		t.Errorf("anonymous upload: %d %q", r.Status, r.Header.Get("Location"))
	}
}
