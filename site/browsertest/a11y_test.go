package browsertest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/familylinks/familylinks/site/store"
)

// axeSource is axe-core as pinned by axe/package-lock.json and installed by
// deploy/scripts/require-browser.sh.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("axe", "node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("axe-core is not installed (deploy/scripts/require-browser.sh): %v", err)
		}
		t.Skipf("axe-core is not installed (run deploy/scripts/require-browser.sh): %v", err)
	}
	return string(b)
}

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeRun checks the open page against WCAG 2.0, 2.1 and 2.2 A and AA and
// axe's best practices.
const axeRun = `axe.run(document, {
  runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
  resultTypes: ["violations"]
}).then(r => r.violations.map(v => ({
  id: v.id, impact: v.impact || "", help: v.help,
  nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))
})))`

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

// galleryFixture publishes three photos and withdraws a fourth, with the
// two accounts the publishing needs; it returns a published reference and
// the withdrawn one.
func galleryFixture(t *testing.T, s *liveSite) (published, withdrawn string) {
	t.Helper()
	e := s.Env
	e.Account(t, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "b@drk.example", "de", store.RoleCaseworker)
	e.Publish(t, "TTF-7Q4K2", "female", "af", "mother", "brother")
	e.Publish(t, "TTF-2B8MX", "male", "af", "father")
	e.Publish(t, "TTF-9PL3D", "female", "so", "mother")
	gone := e.Publish(t, "TTF-4WD7N", "male", "sy", "wife")
	if err := e.Store.WithdrawGalleryEntry(t.Context(), gone.ID, store.WithdrawFamilyFound); err != nil {
		t.Fatal(err)
	}
	return "TTF-7Q4K2", gone.Ref
}

// TestAccessibility runs axe-core on every public page type in English and
// Arabic, including a form with errors and a confirmation. A serious or
// critical violation fails; every finding is written to
// var/browser/axe.md.
func TestAccessibility(t *testing.T) {
	needBrowser(t)
	axe := axeSource(t)
	s := newLiveSite(t)
	published, withdrawn := galleryFixture(t, s)
	// axe must find what is plainly wrong, or its silence means nothing.
	probe := newTab(t, s, "a11y-probe", true)
	var found []axeViolation
	probe.run(chromedp.Navigate(`data:text/html,<html><body><img src="x.png"><input></body></html>`),
		chromedp.Evaluate(axe, nil), chromedp.Evaluate(axeRun, &found, awaitPromise))
	var ids []string
	for _, v := range found {
		ids = append(ids, v.ID)
	}
	if !slices.Contains(ids, "image-alt") || !slices.Contains(ids, "label") {
		t.Fatalf("axe found %v on a page with an unlabelled field and an image without alt", ids)
	}
	var report strings.Builder
	report.WriteString("# axe-core " + axeVersion(t) + ": violations by page\n\n")
	for _, lang := range []string{"en", "ar"} {
		b := newTab(t, s, "a11y-"+lang, true)
		waitFor(t, b, "/"+lang+"/trace-the-face", func() bool { return len(b.refs()) == 3 })
		type page struct {
			name string
			open func()
		}
		pages := []page{
			{"home", func() { b.Go("/" + lang + "/") }},
			{"countries", func() { b.Go("/" + lang + "/countries") }},
			{"countries-filtered", func() { b.Go("/" + lang + "/countries?q=sud") }},
			{"country (Society)", func() { b.Go("/" + lang + "/countries/de") }},
			{"country (ICRC)", func() { b.Go("/" + lang + "/countries/om") }},
			{"how-we-work", func() { b.Go("/" + lang + "/how-we-work") }},
			{"privacy", func() { b.Go("/" + lang + "/privacy") }},
			{"faq", func() { b.Go("/" + lang + "/faq") }},
			{"not found", func() { b.Go("/" + lang + "/no-such-page") }},
			{"gallery", func() { b.Go("/" + lang + "/trace-the-face") }},
			{"gallery filtered", func() { b.Go("/" + lang + "/trace-the-face?origin=af&seeking=mother") }},
			{"gallery no match", func() { b.Go("/" + lang + "/trace-the-face?q=zzzzzz") }},
			{"photo", func() { b.Go("/" + lang + "/trace-the-face/" + published) }},
			{"photo withdrawn", func() { b.Go("/" + lang + "/trace-the-face/" + withdrawn) }},
			{"contact", func() { b.Go("/" + lang + "/contact?country=de") }},
			{"contact with errors", func() {
				b.Go("/" + lang + "/contact")
				b.Follow("form.enquiry button[type=submit]")
			}},
			{"contact sent", func() {
				b.Go("/" + lang + "/contact?country=de")
				p := people[lang]
				b.Type("#f-name", p.Name)
				b.Type("#f-email", "amina@example.org")
				b.Type("#f-sought_name", p.Sought)
				b.Choose("#f-relationship", "son")
				b.Choose("#f-circumstance", "migration")
				b.Click("#f-consent")
				b.Follow("form.enquiry button[type=submit]")
				if !b.Has(".reference") {
					t.Fatalf("the form was not sent: %s", b.Text("main"))
				}
			}},
		}
		if lang == "en" {
			pages = append(pages, page{"staff sign-in", func() { b.Go("/staff/login") }})
		}
		for _, p := range pages {
			p.open()
			var found []axeViolation
			b.run(chromedp.Evaluate(axe, nil), chromedp.Evaluate(axeRun, &found, awaitPromise))
			fmt.Fprintf(&report, "## %s %s (%s)\n\n", lang, p.name, b.Path())
			if len(found) == 0 {
				report.WriteString("none\n\n")
			}
			for _, v := range found {
				fmt.Fprintf(&report, "- **%s** %s: %s (%s)\n", v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "; "))
				if v.Impact == "serious" || v.Impact == "critical" {
					t.Errorf("%s %s: %s %s: %s at %v", lang, p.name, v.Impact, v.ID, v.Help, v.Nodes)
				}
			}
			report.WriteString("\n")
		}
	}
	out := filepath.Join(artifacts(t, ""), "axe.md")
	if err := os.WriteFile(out, []byte(report.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func axeVersion(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("axe", "node_modules", "axe-core", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	return pkg.Version
}

// focused describes the element that has the keyboard focus, and whether
// the focus can be seen on it.
type focused struct {
	ID      string `json:"id"`
	Tag     string `json:"tag"`
	Visible bool   `json:"visible"`
	Ring    bool   `json:"ring"`
}

const focusedJS = `(() => {
  const e = document.activeElement, s = getComputedStyle(e), r = e.getBoundingClientRect();
  const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
  const href = e.getAttribute("href");
  return {id: e.id || (e.type === "submit" ? "submit" : href ? "href:" + href : ""), tag: e.tagName.toLowerCase(),
    visible: r.width > 0 && r.height > 0, ring: outline || s.boxShadow !== "none"};
})()`

// press sends keys to whatever has the focus.
func (b *Tab) press(keys string, opts ...chromedp.KeyOption) {
	b.t.Helper()
	b.run(chromedp.KeyEvent(keys, opts...))
}

func (b *Tab) focus() focused {
	b.t.Helper()
	var f focused
	b.run(chromedp.Evaluate(focusedJS, &f))
	return f
}

// tabTo presses Tab until the element with id has the focus, checking that
// every element the focus passes is visible and shows a focus ring.
func (b *Tab) tabTo(id string) []string {
	b.t.Helper()
	var seen []string
	for range 80 {
		b.press(kb.Tab)
		f := b.focus()
		seen = append(seen, f.ID)
		if !f.Visible {
			b.t.Errorf("the focus went to an invisible element <%s id=%q>", f.Tag, f.ID)
		}
		if !f.Ring {
			b.t.Errorf("<%s id=%q> shows no focus ring", f.Tag, f.ID)
		}
		if f.ID == id {
			return seen
		}
	}
	b.t.Fatalf("Tab never reached #%s; it went through %v", id, seen)
	return nil
}

// TestKeyboardContact fills and sends the contact form with the keyboard
// alone, in English and in Arabic: Tab from the top of the page through
// every field in order, type, choose options by typing, tick the consent
// with Space and send with Enter, correct the one error, send again.
func TestKeyboardContact(t *testing.T) {
	needBrowser(t)
	s := newLiveSite(t)
	order := []string{"f-residence", "f-name", "f-email", "f-phone", "f-lang", "f-sought_name", "f-relationship",
		"f-sought_age", "f-sought_place", "f-lost_when", "f-circumstance", "f-message", "f-consent"}
	for _, lang := range []string{"en", "ar"} {
		t.Run(lang, func(t *testing.T) {
			p := people[lang]
			b := newTab(t, s, "keyboard-"+lang, true)
			b.Go("/" + lang + "/contact")
			// Each field, reached by Tab in order, with what to type in it.
			typed := map[string]string{
				"f-name": p.Name, "f-email": "amina-at-example", "f-sought_name": p.Sought,
				"f-sought_place": p.Place, "f-message": p.Message,
			}
			for _, id := range order {
				b.tabTo(id)
				switch id {
				case "f-residence", "f-relationship", "f-circumstance":
					b.pickByKeyboard(id, map[string]string{"f-residence": "de", "f-relationship": "son", "f-circumstance": "migration"}[id])
				case "f-consent":
					b.press(" ")
				default:
					if v, ok := typed[id]; ok {
						b.press(v)
					}
				}
			}
			b.tabTo("submit")
			b.leave(chromedp.KeyEvent(kb.Enter))
			b.Shot("errors")
			if !b.Has(".summary[role=alert]") {
				t.Fatal("the errors are not announced: no summary with role=alert")
			}
			// A screen reader reads the error with the field.
			var described string
			for _, id := range strings.Fields(b.Attr("#f-email", "aria-describedby")) {
				described += b.Text("#" + id)
			}
			if want := b.Text("#e-email"); want == "" || !strings.Contains(described, want) {
				t.Errorf("the email field is described by %q, not by its error %q", described, want)
			}
			// The page opens on the summary, so the first Tab is its link to
			// the error; then on to the field.
			var onSummary bool
			b.run(chromedp.Evaluate(`document.activeElement.matches(".summary")`, &onSummary))
			if f := b.focus(); !onSummary {
				t.Errorf("the page with errors opens with the focus on <%s id=%q>, not on the error summary", f.Tag, f.ID)
			}
			if seen := b.tabTo("href:#f-email"); len(seen) != 1 {
				t.Errorf("the error's link is %d Tab presses away from the summary: %v", len(seen), seen)
			}
			b.tabTo("f-email")
			b.press(kb.End)
			for range len("amina-at-example") {
				b.press(kb.Backspace)
			}
			b.press("amina@example.org")
			b.tabTo("submit")
			b.leave(chromedp.KeyEvent(kb.Enter))
			if !b.Has(".reference") {
				t.Fatalf("the corrected form was not sent: %s", b.Text("main"))
			}
			_, got := enquiry(t, s, b.Text(".ref"))
			if got.Name != p.Name || got.Email != "amina@example.org" || got.Message != p.Message || got.SoughtPlace != p.Place {
				t.Errorf("stored %+v, want what was typed", got)
			}
		})
	}
}

// pickByKeyboard chooses an option of the focused select with arrow keys,
// as a keyboard user would, until its value is want.
func (b *Tab) pickByKeyboard(id, want string) {
	b.t.Helper()
	var n int
	b.run(chromedp.Evaluate(`document.getElementById("`+id+`").options.length`, &n))
	for range n {
		if v := b.Value("#" + id); v == want {
			return
		}
		b.press(kb.ArrowDown)
	}
	b.t.Fatalf("#%s: no option %q reachable with the arrow keys", id, want)
}
