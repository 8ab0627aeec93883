package browsertest

import (
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestCountryAndConfirmationOnAPhone opens, at 360 px, the pages a person
// reads before and after asking for help, in English, Arabic, Dari, Pashto
// and Tigrinya: Panama (a sourced service, a name in the page language),
// Nicaragua (a dissolved Society), Puerto Rico (covered by another Society)
// and the confirmation. Nothing may be wider than the screen, and the
// reference must be on one line. The screenshots are in var/browser/shots.
func TestCountryAndConfirmationOnAPhone(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	for _, lang := range []string{"en", "ar", "prs", "ps", "ti"} {
		t.Run(lang, func(t *testing.T) {
			b := newTab(t, s, "Phone-"+lang, true)
			b.phoneOnly = true
			for _, iso := range []string{"pa", "ni", "pr"} {
				b.Go("/" + lang + "/countries/" + iso)
				b.fitsWidth()
				b.Shot("country-" + iso)
			}
			b.Follow(`a.button[href="/` + lang + `/contact?country=pr"]`)
			p := people["en"]
			b.Type("#f-name", p.Name)
			b.Type("#f-email", "amina@example.org")
			b.Type("#f-sought_name", p.Sought)
			b.Choose("#f-relationship", "son")
			b.Type("#f-sought_place", p.Place)
			b.Choose("#f-circumstance", "migration")
			b.Type("#f-message", p.Message)
			b.Click("#f-consent")
			b.Follow("form.enquiry button[type=submit]")
			if !strings.HasSuffix(b.Path(), "/contact/sent") {
				t.Fatalf("the request was not sent: %s", b.Text("main"))
			}
			b.fitsWidth()
			var lines int
			b.run(chromedp.Evaluate(`(() => { const e = document.querySelector(".ref"); return Math.round(e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)); })()`, &lines))
			if lines != 1 {
				t.Errorf("the reference takes %d lines at 360 px", lines)
			}
			b.Shot("sent")
		})
	}
}

// fitsWidth fails when the page scrolls sideways on the phone.
func (b *Tab) fitsWidth() {
	b.t.Helper()
	var over []string
	b.run(chromedp.Evaluate(`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 || e.getBoundingClientRect().left < -1).slice(0, 5).map(e => e.tagName + "." + e.className + ": " + e.textContent.trim().slice(0, 40))`, &over))
	if len(over) > 0 {
		b.t.Errorf("%s: wider than the screen: %v", b.Path(), over)
	}
}

// TestRobotsReadableFromThePage does what Lighthouse does to check
// robots.txt: it fetches /robots.txt from inside a page, under the page's
// Content-Security-Policy. With connect-src 'none' the fetch is refused and
// Lighthouse calls robots.txt invalid.
func TestRobotsReadableFromThePage(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	b := newTab(t, s, "Robots", true)
	b.Go("/en/")
	var got string
	b.run(chromedp.Evaluate(`fetch("/robots.txt").then(r => r.text()).catch(e => "refused: " + e)`, &got, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
		return p.WithAwaitPromise(true)
	}))
	if !strings.Contains(got, "User-agent: *") || !strings.Contains(got, "Sitemap: ") {
		t.Errorf("from the page, /robots.txt reads %q", got)
	}
}
