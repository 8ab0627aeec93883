package site_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestRootRedirect(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, cookie, accept, want string
	}{
		{"no preference", "", "", "/en/"},
		{"browser in Arabic", "", "ar,en;q=0.5", "/ar/"},
		{"browser in Dari", "", "fa-AF", "/prs/"},
		{"cookie beats browser", "ti", "ar", "/ti/"},
		{"unsupported browser language", "", "de-CH", "/en/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Language", tt.accept)
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "lang", Value: tt.cookie})
			}
			res := e.do(t, req)
			if res.StatusCode != http.StatusFound || res.Header.Get("Location") != tt.want {
				t.Fatalf("got %d %q, want 302 %q", res.StatusCode, res.Header.Get("Location"), tt.want)
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Language") {
				t.Error("the redirect depends on Accept-Language and must say so in Vary")
			}
		})
	}
}

func TestLanguageSwitchRemembered(t *testing.T) {
	e := newEnv(t)
	res := e.get(t, "/so/countries/ke?switch=1")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/so/countries/ke" {
		t.Fatalf("switch: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "lang" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "so" || !cookie.HttpOnly || !cookie.Secure {
		t.Fatalf("switch must set a Secure, HttpOnly lang cookie; got %+v", cookie)
	}
	// An ordinary page view writes no cookie.
	if res := e.get(t, "/so/countries/ke"); len(res.Cookies()) != 0 {
		t.Error("a page view without a switch must not write a cookie")
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Language", "fr")
	req.AddCookie(cookie)
	if got := e.do(t, req).Header.Get("Location"); got != "/so/" {
		t.Errorf("after switching to Somali, / goes to %q", got)
	}
}

// TestLanguagesDoNotLeak renders the same pages in many languages at once:
// no request may get another request's language.
func TestLanguagesDoNotLeak(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	for round := 0; round < 5; round++ {
		for _, l := range e.catalog.Languages() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, p := range []string{"/", "/countries/sy", "/faq"} {
					res, err := e.app.Test(httptest.NewRequest(http.MethodGet, "/"+l.Code+p, nil), -1)
					if err != nil {
						errs <- err.Error()
						return
					}
					body := make([]byte, 0, 1<<16)
					buf := make([]byte, 4096)
					for {
						n, err := res.Body.Read(buf)
						body = append(body, buf[:n]...)
						if err != nil {
							break
						}
					}
					res.Body.Close()
					s := string(body)
					if !strings.Contains(s, `<html lang="`+l.HrefLang()+`"`) {
						errs <- l.Code + p + ": wrong <html lang>"
					}
					if want := e.catalog.Translator(l.Code).T("SkipToContent"); !strings.Contains(s, want) {
						errs <- l.Code + p + ": text from another language"
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for m := range errs {
		t.Error(m)
	}
}
