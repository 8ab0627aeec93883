package site_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// onlyReader hides the length of a body, so it is sent chunked.
type onlyReader struct{ io.Reader }

// TestBodyLimit: no route but the signed-in photo upload takes a body over
// 64 KB, declared or chunked; the visitor gets the localized "too large"
// page, never a 5xx, and a body under the limit still reaches the form.
func TestBodyLimit(t *testing.T) {
	e := newEnv(t)
	big := "message=" + strings.Repeat("a", 100<<10)
	for _, path := range []string{"/en/contact", "/ar/contact", "/staff/login", "/en/trace-the-face", "/nowhere"} {
		for _, chunked := range []bool{false, true} {
			var body io.Reader = strings.NewReader(big)
			if chunked {
				body = onlyReader{bytes.NewReader([]byte(big))}
			}
			req := httptest.NewRequest("POST", path, body)
			if chunked {
				req.ContentLength, req.TransferEncoding = 0, []string{"chunked"}
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res := e.do(t, req)
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("POST %s, 100 KB (chunked %v): %d, want 413", path, chunked, res.StatusCode)
				continue
			}
			if path == "/ar/contact" && !strings.Contains(string(res.body), e.catalog.Translator("ar").T("ErrorTooLargeTitle")) {
				t.Errorf("the 413 page for /ar/contact is not in Arabic")
			}
		}
	}
	// Just under the limit, chunked: it reaches the form, which refuses it
	// for its own reasons (no token), not for its size.
	small := "message=" + strings.Repeat("a", 60<<10)
	req := httptest.NewRequest("POST", "/en/contact", onlyReader{strings.NewReader(small)})
	req.ContentLength, req.TransferEncoding = 0, []string{"chunked"}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res := e.do(t, req); res.StatusCode == http.StatusRequestEntityTooLarge {
		t.Errorf("a 60 KB form was refused as too large")
	}
}
