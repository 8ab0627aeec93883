// Package browsertest drives the whole site in Debian's Chromium through
// chromedp: the user journeys without JavaScript, accessibility
// checked by axe-core, keyboard use, and page weight and timings on an
// emulated slow 3G connection. The site runs on a real address over the
// real PostgreSQL and Meilisearch that `familylinks testenv` starts.
package browsertest

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
)

// browserCtx is the one Chromium every test opens its tabs in; nil when
// Chromium is not installed.
var (
	browserCtx context.Context
	browserErr error
)

func TestMain(m *testing.M) {
	var cancel func()
	browserCtx, cancel, browserErr = startChromium()
	code := m.Run()
	if cancel != nil {
		cancel()
	}
	os.Exit(code)
}

// chromiumPath is FAMILYLINKS_CHROMIUM, or Debian's Chromium.
func chromiumPath() string {
	if p := os.Getenv("FAMILYLINKS_CHROMIUM"); p != "" {
		return p
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

func startChromium() (context.Context, func(), error) {
	path := chromiumPath()
	if path == "" {
		return nil, nil, fmt.Errorf("chromium is not installed (deploy/scripts/require-browser.sh installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		// The machine has no internet: without these, Chromium keeps trying
		// to reach Google's services.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.WindowSize(1280, 800),
	)
	actx, c1 := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, c2 := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		// The protocol types of chromedp v0.13 predate some of the values
		// today's Chromium sends (the "Loopback" address space); those
		// events are dropped, and nothing here needs them.
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			log.Print(msg)
		}
	}))
	if err := chromedp.Run(bctx); err != nil {
		c2()
		c1()
		return nil, nil, fmt.Errorf("starting %s: %w", path, err)
	}
	return bctx, func() { c2(); c1() }, nil
}

// needBrowser skips the test without Chromium, except when CI=true.
func needBrowser(t *testing.T) {
	t.Helper()
	if browserCtx != nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%v (CI=true forbids skipping the browser tests)", browserErr)
	}
	t.Skipf("%v: skipping the browser tests", browserErr)
}

// artifacts is var/browser at the root of the repository: screenshots and
// reports, kept out of git.
func artifacts(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	out := filepath.Join(dir, "var", "browser", sub)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return out
}

// liveSite is the whole site served on 127.0.0.1, with the outbox worker
// that keeps the gallery index in step and sends the back office's
// invitations to Mail.
type liveSite struct {
	URL    string
	Env    *sitetest.Env
	Search *search.Client
	Mail   *sitetest.Mailbox
}

func newLiveSite(t *testing.T) *liveSite {
	t.Helper()
	sc := sitetest.Search(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	e := sitetest.NewWith(t, site.Config{BaseURL: base}, sc)
	go func() { _ = e.App.Listener(ln) }()
	ctx, stop := context.WithCancel(context.Background())
	x := &gallery.Indexer{Store: e.Store, Search: sc, Catalog: e.Catalog}
	box := &sitetest.Mailbox{}
	handlers := x.Handlers()
	handlers[store.TopicStaffInvite] = staff.InviteHandler(e.Catalog, e.Keys, box, base, slog.New(slog.DiscardHandler))
	w := &store.Worker{Store: e.Store, Handlers: handlers, Poll: 100 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		wg.Wait()
		_ = e.App.ShutdownWithTimeout(5 * time.Second)
	})
	return &liveSite{URL: base, Env: e, Search: sc, Mail: box}
}

// Tab is one browser tab with its own cookies (an incognito context), at
// phone or desktop size, with or without JavaScript.
type Tab struct {
	t     *testing.T
	ctx   context.Context
	base  string
	name  string
	shots string
	n     int
	// phoneOnly: Shot takes the phone picture only, for the tests about
	// a phone's screen.
	phoneOnly bool
}

// Sizes of the two screenshots every step takes.
var (
	phone   = [2]int64{360, 740}
	desktop = [2]int64{1280, 800}
)

// newTab opens a tab in a fresh browser context. name prefixes its
// screenshots.
func newTab(t *testing.T, s *liveSite, name string, js bool) *Tab {
	t.Helper()
	needBrowser(t)
	ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelT(); cancel() })
	tab := &Tab{t: t, ctx: ctx, base: s.URL, name: name, shots: artifacts(t, "shots")}
	tab.run(tab.size(phone))
	if !js {
		// Proof that scripts are really off: a page that would set its
		// own title keeps none.
		var title string
		tab.run(emulation.SetScriptExecutionDisabled(true),
			chromedp.Navigate(`data:text/html,<title></title><script>document.title="js ran"</script>`), chromedp.Title(&title))
		if title != "" {
			t.Fatalf("JavaScript is still on (title %q)", title)
		}
	}
	return tab
}

func (b *Tab) size(wh [2]int64) chromedp.Action {
	return emulation.SetDeviceMetricsOverride(wh[0], wh[1], 1, wh == phone)
}

func (b *Tab) run(actions ...chromedp.Action) {
	b.t.Helper()
	if err := chromedp.Run(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", b.name, err)
	}
}

// Go opens a path of the site and waits for its main heading.
func (b *Tab) Go(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+path), chromedp.WaitReady("h1", chromedp.ByQuery))
	b.noScript()
}

// noScript fails a page that holds a script (a JSON-LD block is data): the
// site sends none, which is why the journeys run only with JavaScript off.
func (b *Tab) noScript() {
	b.t.Helper()
	if b.Has(`script:not([type="application/ld+json"])`) {
		b.t.Errorf("%s: the page has a script", b.Path())
	}
}

// Click clicks an element that does not leave the page.
func (b *Tab) Click(sel string) {
	b.t.Helper()
	b.run(chromedp.Click(sel, chromedp.ByQuery, chromedp.NodeVisible))
}

// Follow clicks a link or a submit button and waits for the next page.
func (b *Tab) Follow(sel string) {
	b.t.Helper()
	b.leave(chromedp.Click(sel, chromedp.ByQuery, chromedp.NodeVisible))
}

// leave runs an action that opens another page, and waits for that page:
// the old page is marked first, so its own heading is not taken for the
// new one.
func (b *Tab) leave(act chromedp.Action) {
	b.t.Helper()
	b.run(
		chromedp.SetAttributeValue("html", "data-left", "1", chromedp.ByQuery),
		act,
		chromedp.WaitReady("html:not([data-left]) h1", chromedp.ByQuery),
	)
	// The heading can be there before the page has finished loading;
	// nodes read before then may be gone once it has.
	b.until(`document.readyState === "complete"`)
	b.noScript()
}

// until evaluates cond until it is true, for at most 30 s. The polling is
// done from here, not in the page: chromedp.Poll runs on the page's timers,
// which never fire while JavaScript is off.
func (b *Tab) until(cond string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ok bool
		b.run(chromedp.Evaluate(cond, &ok))
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: still not true after 30 s: %s", b.name, cond)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Type types text into a field, as keys.
func (b *Tab) Type(sel, text string) {
	b.t.Helper()
	b.run(chromedp.SendKeys(sel, text, chromedp.ByQuery))
}

// Replace empties a field and types text into it.
func (b *Tab) Replace(sel, text string) {
	b.t.Helper()
	b.run(chromedp.Clear(sel, chromedp.ByQuery), chromedp.SendKeys(sel, text, chromedp.ByQuery))
}

// Choose picks an option of a select by its value.
func (b *Tab) Choose(sel, value string) {
	b.t.Helper()
	b.run(chromedp.SetValue(sel, value, chromedp.ByQuery))
}

// Text is the visible text of the first element matching sel.
func (b *Tab) Text(sel string) string {
	b.t.Helper()
	var s string
	b.run(chromedp.Text(sel, &s, chromedp.ByQuery))
	return strings.TrimSpace(s)
}

// Value is a form field's current value.
func (b *Tab) Value(sel string) string {
	b.t.Helper()
	var s string
	b.run(chromedp.Value(sel, &s, chromedp.ByQuery))
	return s
}

// Attr is an attribute of the first element matching sel ("" if absent).
func (b *Tab) Attr(sel, name string) string {
	b.t.Helper()
	var s string
	var ok bool
	b.run(chromedp.AttributeValue(sel, name, &s, &ok, chromedp.ByQuery))
	return s
}

// Has reports whether an element matches sel, without waiting.
func (b *Tab) Has(sel string) bool {
	b.t.Helper()
	var n int
	b.run(chromedp.Evaluate(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n))
	return n > 0
}

// Path is the current URL's path and query.
func (b *Tab) Path() string {
	b.t.Helper()
	var loc string
	b.run(chromedp.Location(&loc))
	return strings.TrimPrefix(loc, b.base)
}

// Shot saves a full-page screenshot at phone and at desktop size (0.5 s
// and 0.4 s on this machine), then goes back to phone size.
func (b *Tab) Shot(step string) {
	b.t.Helper()
	b.n++
	for _, s := range []struct {
		name string
		wh   [2]int64
	}{{"phone", phone}, {"desktop", desktop}} {
		if b.phoneOnly && s.wh != phone {
			continue
		}
		var png []byte
		b.run(b.size(s.wh), chromedp.FullScreenshot(&png, 100))
		name := fmt.Sprintf("%s-%02d-%s-%s.png", b.name, b.n, step, s.name)
		if err := os.WriteFile(filepath.Join(b.shots, name), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.run(b.size(phone))
}
