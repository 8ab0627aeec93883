package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pgTool finds a PostgreSQL client program on PATH, or where Debian puts
// it (/usr/lib/postgresql/15/bin first), as internal/devstack finds initdb.
// Without it the test skips, or fails when CI=true.
func pgTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.Reverse(dirs)
	for _, d := range append([]string{"/usr/lib/postgresql/15/bin"}, dirs...) {
		if p := filepath.Join(d, name); fileExists(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed (apt-get install postgresql-client-15); CI=true forbids skipping the restore test", name)
	}
	t.Skipf("%s is not installed (apt-get install postgresql-client-15)", name)
	return ""
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// operator runs a PostgreSQL client program as an operator would type it.
func operator(t *testing.T, prog string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	out, err := cmd.CombinedOutput()
	t.Logf("$ %s %s\n%s", filepath.Base(prog), strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("%s: %v", filepath.Base(prog), err)
	}
}

// seen is what a visitor sees of the gallery: whole pages, the photos
// in order, the filters with their counts, and every image's bytes.
type seen struct {
	Pages   map[string]string
	Refs    []string // page 1, then page 2
	Options []string // value (count) of every filter, page 1
	Media   map[string]string
}

var (
	optionRE = regexp.MustCompile(`<option value="([^"]+)"(?: selected)?>[^<]*\((\d+)\)</option>`)
	statusRE = regexp.MustCompile(`<p role="status">([^<]*)</p>`)
)

// look records the gallery as one visitor sees it, and the pages and
// images of the photos named (by default, those the gallery shows).
func look(t *testing.T, site string, ip string, photos []string) seen {
	t.Helper()
	c := newClient(t, ip)
	g := seen{Pages: map[string]string{}, Media: map[string]string{}}
	for _, path := range []string{"/en/trace-the-face", "/en/trace-the-face?page=2", "/ar/trace-the-face"} {
		p := c.get(site + path)
		if p.Status != http.StatusOK {
			t.Fatalf("%s: status %d", path, p.Status)
		}
		g.Pages[path] = p.Body
		if strings.HasPrefix(path, "/en/") {
			g.Refs = append(g.Refs, cardRefs(p.Body)...)
		}
	}
	for _, m := range optionRE.FindAllStringSubmatch(g.Pages["/en/trace-the-face"], -1) {
		g.Options = append(g.Options, m[1]+" ("+m[2]+")")
	}
	if photos == nil {
		photos = g.Refs
	}
	for _, ref := range photos {
		// The photo page carries a fresh form token; everything else on
		// it comes from the database.
		p := c.get(site + "/en/trace-the-face/" + ref)
		if p.Status != http.StatusOK {
			t.Fatalf("photo %s: status %d", ref, p.Status)
		}
		g.Pages["/en/trace-the-face/"+ref] = csrfField.ReplaceAllString(p.Body, `name="_csrf" value="…"`)
		for _, w := range []int{320, 640, 1280} {
			path := "/media/" + ref + "/" + strconv.Itoa(w) + ".jpg"
			p := c.get(site + path)
			if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "image/jpeg" {
				t.Fatalf("%s: status %d, %s", path, p.Status, p.Header.Get("Content-Type"))
			}
			sum := sha256.Sum256([]byte(p.Body))
			g.Media[path] = hex.EncodeToString(sum[:]) + " " + p.Header.Get("ETag")
		}
	}
	return g
}

// TestBackupRestore backs the database up with pg_dump, drops it, restores
// it with pg_restore, rebuilds a lost search index with `familylinks
// reindex`, and checks that the site serves the same gallery, to the byte,
// and that a caseworker can still open and read the enquiries.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	e := newEngines(t)
	pgDump, pgRestore := pgTool(t, "pg_dump"), pgTool(t, "pg_restore")
	dropdb, createdb := pgTool(t, "dropdb"), pgTool(t, "createdb")
	env := e.Env("FAMILYLINKS_BASE_URL=http://familylinks.test", "FAMILYLINKS_TRUSTED_PROXIES=127.0.0.1")

	// A site in use: a caseworker, a gallery of more than one page, and
	// enquiries sealed under the data key.
	before := startSite(t, "the site before the backup", append(env, "FAMILYLINKS_AUTO_MIGRATE=true"))
	before.Ready(t)
	run(t, env, password+"\n", "staff", "add", "--email", "luc@croix-rouge.test", "--society", "fr", "--role", "caseworker", "--password-stdin")
	const entries = 26 // more than the 24 a page shows
	run(t, env, "", "seed-demo", strconv.Itoa(entries))
	sent := map[string]typed{}
	for i := range 3 {
		name, msg := "Amina Ḥasan "+strconv.Itoa(i), "Last seen near the border, case "+strconv.Itoa(i)+"."
		p, ref := newClient(t, "192.0.2."+strconv.Itoa(10+i)).contact(before.URL, before.URL, enquiry(name, msg))
		if p.Status != http.StatusSeeOther || ref == "" {
			t.Fatalf("enquiry %d: status %d", i, p.Status)
		}
		sent[ref] = typed{name, msg}
	}
	// Generous: in make test every package shares the one Meilisearch.
	waitFor(t, 5*time.Minute, "the outbox to index every entry (check-index)", func() bool {
		_, err := tryRun(t, env, "", "check-index")
		return err == nil
	})
	want := look(t, before.URL, "192.0.2.50", nil)
	if len(want.Refs) != entries || len(want.Options) == 0 {
		t.Fatalf("before the backup the gallery shows %d photos and %d filter values; want %d photos", len(want.Refs), len(want.Options), entries)
	}
	before.Stop(t)

	// The operator's backup and restore; see deploy/README.md.
	dump := filepath.Join(t.TempDir(), "familylinks.dump")
	operator(t, pgDump, "--format=custom", "--file="+dump, "--dbname="+e.DSN)
	operator(t, dropdb, "--force", "--maintenance-db="+e.AdminURL, e.DBName)
	operator(t, createdb, "--maintenance-db="+e.AdminURL, e.DBName)
	operator(t, pgRestore, "--exit-on-error", "--single-transaction", "--no-owner", "--dbname="+e.DSN, dump)

	// Meilisearch lost its data too: the index is derived, and rebuilt.
	if err := e.deleteIndex(t.Context(), e.Search.FacesIndex()); err != nil {
		t.Fatal(err)
	}
	if refs, err := e.Search.Refs(t.Context()); err != nil || len(refs) != 0 {
		t.Fatalf("after deleting the index it holds %d documents (err %v)", len(refs), err)
	}
	t.Log(run(t, env, "", "reindex"))
	t.Log(run(t, env, "", "check-index"))

	// No migration at start-up: the restored database must be whole.
	after := startSite(t, "the site after the restore", env)
	after.Ready(t)
	got := look(t, after.URL, "192.0.2.51", want.Refs)
	if !slices.Equal(got.Refs, want.Refs) {
		t.Errorf("photos after the restore:\n%v\nbefore:\n%v", got.Refs, want.Refs)
	}
	if !slices.Equal(got.Options, want.Options) {
		t.Errorf("filters after the restore:\n%v\nbefore:\n%v", got.Options, want.Options)
	}
	for path, body := range want.Pages {
		if got.Pages[path] != body {
			t.Errorf("%s differs after the restore (count before %q, after %q)", path, statusRE.FindString(body), statusRE.FindString(got.Pages[path]))
		}
	}
	for path, sum := range want.Media {
		if got.Media[path] != sum {
			t.Errorf("%s: sha256 and ETag %q after the restore, %q before", path, got.Media[path], sum)
		}
	}

	// The caseworker reads each enquiry, decrypted with the same data key.
	c := newClient(t, "192.0.2.60")
	if p := c.login(after.URL, after.URL, "luc@croix-rouge.test", password); p.Status != http.StatusSeeOther {
		t.Fatalf("the caseworker cannot sign in after the restore: status %d", p.Status)
	}
	inbox := c.get(after.URL + "/staff/enquiries")
	for ref, in := range sent {
		if !strings.Contains(inbox.Body, ref) {
			t.Errorf("enquiry %s is not in the inbox after the restore", ref)
		}
		p := c.get(after.URL + "/staff/enquiries/" + ref)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, in.name) || !strings.Contains(p.Body, in.message) {
			t.Errorf("enquiry %s after the restore: status %d, shows the name %v and the message %v",
				ref, p.Status, strings.Contains(p.Body, in.name), strings.Contains(p.Body, in.message))
		}
	}
}

// typed is what someone typed into an enquiry: their name and message.
type typed struct{ name, message string }
