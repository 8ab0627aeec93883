package browsertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// vnuJar is the Nu HTML Checker, pinned by vnu/package-lock.json and
// installed by deploy/scripts/require-browser.sh.
func vnuJar(t *testing.T) string {
	t.Helper()
	jar := filepath.Join("vnu", "node_modules", "vnu-jar", "build", "dist", "vnu.jar")
	_, errJar := os.Stat(jar)
	_, errJava := exec.LookPath("java")
	if errJar != nil || errJava != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Nu HTML Checker needs %s and java (bash deploy/scripts/require-browser.sh installs both): %v %v", jar, errJar, errJava)
		}
		t.Skipf("no Nu HTML Checker (%v %v); bash deploy/scripts/require-browser.sh installs it", errJar, errJava)
	}
	return jar
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// TestNuHTMLChecker sends every public page type, in English and Arabic,
// through the Nu HTML Checker in one run: the pages as the server sends
// them, including a form with errors, a confirmation, the gallery, a photo
// page and a 404. Any error fails, with its page, line and message.
func TestNuHTMLChecker(t *testing.T) {
	jar := vnuJar(t)
	s := newLiveSite(t)
	photo, _ := galleryFixture(t, s)
	dir := t.TempDir()
	var files []string
	names := map[string]string{}
	save := func(name, path string, body []byte) {
		f := filepath.Join(dir, name+".html")
		if err := os.WriteFile(f, body, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		names["file:"+f] = path
	}
	for _, lang := range []string{"en", "ar"} {
		cookies, _ := cookiejar.New(nil)
		c := &http.Client{Jar: cookies}
		get := func(path string, want int) []byte {
			res, err := c.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != want {
				t.Fatalf("%s: %d, want %d", path, res.StatusCode, want)
			}
			return b
		}
		post := func(path string, form url.Values, want int) []byte {
			res, err := c.PostForm(s.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != want {
				t.Fatalf("POST %s: %d, want %d", path, res.StatusCode, want)
			}
			return b
		}
		for i, path := range []string{"/", "/countries", "/countries?q=ger", "/countries/de", "/countries/om", "/countries/pr",
			"/countries/ni", "/countries/pa", "/how-we-work", "/privacy", "/faq", "/trace-the-face", "/trace-the-face?origin=af",
			"/trace-the-face/" + photo, "/contact", "/contact?country=de"} {
			p := "/" + lang + path
			save(fmt.Sprintf("%s-%02d", lang, i), p, get(p, http.StatusOK))
		}
		save(lang+"-404", "/"+lang+"/no-such-page", get("/"+lang+"/no-such-page", http.StatusNotFound))
		form := get("/"+lang+"/contact", http.StatusOK)
		m := csrfField.FindSubmatch(form)
		if m == nil {
			t.Fatal("no CSRF field on the contact form")
		}
		in := url.Values{"_csrf": {string(m[1])}, "residence": {"de"}, "name": {"Amina"}, "email": {"not-an-address"}}
		save(lang+"-errors", "POST /"+lang+"/contact (errors)", post("/"+lang+"/contact", in, http.StatusUnprocessableEntity))
		p := people["en"]
		in = url.Values{"_csrf": {string(m[1])}, "residence": {"de"}, "name": {p.Name}, "email": {"amina@example.org"},
			"sought_name": {p.Sought}, "relationship": {"son"}, "sought_place": {p.Place}, "circumstance": {"migration"},
			"message": {p.Message}, "consent": {"yes"}, "lang": {lang}}
		save(lang+"-sent", "/"+lang+"/contact/sent", post("/"+lang+"/contact", in, http.StatusOK))
	}
	cmd := exec.Command("java", append([]string{"-jar", jar, "--errors-only", "--format", "json"}, files...)...)
	var out bytes.Buffer
	cmd.Stderr = &out // vnu writes its JSON report to stderr
	_ = cmd.Run()     // non-zero on errors; the report says which
	var report struct {
		Messages []struct {
			URL, Type, Message string
			LastLine           int
		}
	}
	if err := json.Unmarshal(out.Bytes(), &report); err != nil {
		t.Fatalf("vnu report: %v: %s", err, out.String())
	}
	for _, m := range report.Messages {
		if m.Type == "error" || m.Type == "non-document-error" {
			t.Errorf("%s line %d: %s", names[m.URL], m.LastLine, m.Message)
		}
	}
	t.Logf("the Nu HTML Checker read %d pages", len(files))
}
