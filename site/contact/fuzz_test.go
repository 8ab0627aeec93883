package contact_test

import (
	"encoding/json"
	"maps"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/familylinks/familylinks/site/contact"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// FuzzContactForm posts arbitrary text in every free field to the site
// built without a database, so that each input costs one request in
// memory: the answer is never a 5xx other than the "try again" of a valid
// form that cannot be stored here, the form always comes back with each
// field holding exactly what was typed (escaped, never markup), and what a
// valid form would store (its sealed personal data) opens to exactly what
// was typed. That the database keeps those bytes is TestArabicSpeakerInGermany's
// and TestTextPostgresCannotHold's.
func FuzzContactForm(f *testing.F) {
	f.Add("Amina", "amina@example.org", "", "Yusuf", "45", "Hello")
	f.Add("<script>alert(1)</script>", "x@y.z", "+49 30 1234", "\"><img src=x onerror=alert(1)>", "٤٥", "line\r\nbreak")
	f.Add("\xff\xfe", "", "", "", "-1", strings.Repeat("ا", 5001))
	f.Add("a\x00b", "a@b", "phone", "{{.}}", "999", "' OR 1=1 --")
	f.Add("", "", "", "", "", "")
	e := sitetest.NewPublic(f)
	keys, err := crypt.Parse(crypt.NewKey("fuzz"))
	if err != nil {
		f.Fatal(err)
	}
	first := e.Browser(f)
	token := sitetest.CSRF(f, first.Get("/en/contact"))
	f.Fuzz(func(t *testing.T, name, email, phone, sought, age, message string) {
		b := e.Browser(t) // with the first one's CSRF cookie
		b.Cookies = maps.Clone(first.Cookies)
		form := url.Values{
			"_csrf": {token}, "residence": {"de"}, "name": {name}, "email": {email}, "phone": {phone}, "lang": {"en"},
			"sought_name": {sought}, "sought_age": {age}, "relationship": {"mother"}, "circumstance": {"migration"},
			"message": {message}, "consent": {"yes"},
		}
		res := b.Do("POST", "/en/contact", form)
		switch res.Status {
		case 422: // refused: the errors are shown
		case 503: // valid: nothing can be stored here
			typed := contact.Form{Name: name, Email: email, Phone: phone, SoughtName: sought, SoughtAge: age, Message: message}
			plain, err := json.Marshal(typed.Personal())
			if err != nil {
				t.Fatal(err)
			}
			kid, sealed := keys.SealAt(plain, crypt.EnquiryPersonal("FL-FUZZ"))
			opened, err := keys.OpenAt(kid, sealed, crypt.EnquiryPersonal("FL-FUZZ"))
			if err != nil {
				t.Fatal(err)
			}
			var p store.Personal
			if err := json.Unmarshal(opened, &p); err != nil {
				t.Fatal(err)
			}
			if p.Name != name || p.Email != email || p.Phone != phone || p.SoughtName != sought || p.SoughtAge != age || p.Message != message {
				t.Fatalf("would store %+v, typed %q %q %q %q %q %q", p, name, email, phone, sought, age, message)
			}
		default:
			t.Fatalf("status %d", res.Status)
		}
		// Either way the form comes back with each field holding exactly
		// what was typed: nothing lost, nothing turned into markup.
		doc, err := html.Parse(strings.NewReader(res.Body))
		if err != nil {
			t.Fatal(err)
		}
		for id, typed := range map[string]string{"f-name": name, "f-email": email, "f-phone": phone,
			"f-sought_name": sought, "f-sought_age": age, "f-message": message} {
			if !utf8.ValidString(typed) || strings.ContainsRune(typed, 0) {
				continue // the HTML parser itself replaces these bytes
			}
			if got, want := fieldValue(doc, id), htmlNewlines(typed); got != want {
				t.Fatalf("field %s came back as %q, typed %q", id, got, typed)
			}
		}
	})
}

// fieldValue is what a browser would show in the input or textarea with id.
func fieldValue(n *html.Node, id string) string {
	if n.Type == html.ElementNode {
		for _, a := range n.Attr {
			if a.Key == "id" && a.Val == id {
				if n.Data == "textarea" {
					var b strings.Builder
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						b.WriteString(c.Data)
					}
					return b.String()
				}
				for _, v := range n.Attr {
					if v.Key == "value" {
						return v.Val
					}
				}
				return ""
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if v := fieldValue(c, id); v != "" {
			return v
		}
	}
	return ""
}

// htmlNewlines applies HTML's own line-break normalisation: CR LF and CR
// become LF, as a browser submits and shows them.
func htmlNewlines(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}
