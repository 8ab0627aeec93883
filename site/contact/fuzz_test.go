package contact_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// FuzzContactForm posts arbitrary text in every free field: the answer is
// never a 5xx, an accepted enquiry holds exactly what was typed, and a
// refused one comes back with the text escaped, never as markup.
func FuzzContactForm(f *testing.F) {
	f.Add("Amina", "amina@example.org", "", "Yusuf", "45", "Hello")
	f.Add("<script>alert(1)</script>", "x@y.z", "+49 30 1234", "\"><img src=x onerror=alert(1)>", "٤٥", "line\r\nbreak")
	f.Add("\xff\xfe", "", "", "", "-1", strings.Repeat("ا", 5001))
	f.Add("a\x00b", "a@b", "phone", "{{.}}", "999", "' OR 1=1 --")
	f.Add("", "", "", "", "", "")
	e := sitetest.New(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, name, email, phone, sought, age, message string) {
		// The rate limit is tested elsewhere; here every post gets through.
		_ = e.Store.ResetHits(ctx, "contact:ip:0.0.0.0")
		before, _ := e.Store.CountEnquiries(ctx)
		b := e.Browser(t)
		form := url.Values{
			"residence": {"de"}, "name": {name}, "email": {email}, "phone": {phone}, "lang": {"en"},
			"sought_name": {sought}, "sought_age": {age}, "relationship": {"mother"}, "circumstance": {"migration"},
			"message": {message}, "consent": {"yes"},
		}
		res := submit(t, b, "en", form)
		if res.Status >= 500 {
			t.Fatalf("status %d", res.Status)
		}
		after, _ := e.Store.CountEnquiries(ctx)
		switch res.Status {
		case 303:
			if after != before+1 {
				t.Fatalf("acknowledged but %d stored", after-before)
			}
			list, err := e.Store.Enquiries(ctx, store.EnquiryFilter{Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			p := open(t, e, list[0])
			if p.Name != name || p.Email != email || p.Phone != phone || p.SoughtName != sought || p.SoughtAge != age || p.Message != message {
				t.Fatalf("stored %+v, typed %q %q %q %q %q %q", p, name, email, phone, sought, age, message)
			}
		default:
			if after != before {
				t.Fatalf("refused (%d) but stored", res.Status)
			}
			// The form comes back with each field holding exactly what was
			// typed: nothing lost, nothing turned into markup.
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
