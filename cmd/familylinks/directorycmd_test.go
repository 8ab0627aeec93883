package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/familylinks/familylinks/site/store"
)

// TestDirectoryExportImport: an administrator brings a Society's card in
// from a file. A file with one bad card saves nothing and names the
// problem; a good one saves a draft the administrator cannot publish; once
// a colleague has published it, `directory export` writes it, with nothing
// about the people involved; importing the same file again changes nothing.
func TestDirectoryExportImport(t *testing.T) {
	t.Parallel()
	e := newEngines(t)
	cli := e.Env()
	run(t, cli, "", "migrate")
	pw := password + "\n"
	run(t, cli, pw, "staff", "add", "--email", "admin@familylinks.test", "--role", "admin", "--password-stdin")
	run(t, cli, pw, "staff", "add", "--email", "ben@drk.test", "--society", "de", "--role", "caseworker", "--page-editor", "--password-stdin")
	run(t, cli, pw, "staff", "add", "--email", "luc@croix-rouge.test", "--society", "fr", "--role", "caseworker", "--page-editor", "--password-stdin")
	st, err := store.Open(t.Context(), e.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)

	dir := t.TempDir()
	file := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := `{"countries":[{"iso2":"de","card":{"desk":{"en":"Tracing service"},"phones":[{"number":"030 85404-0","voice":true}],"emails":["suchdienst@drk.example"]}}]}`
	bad := `{"countries":[{"iso2":"de","card":{"phones":[{"number":"call us","voice":true}]}},{"iso2":"fr","card":{"emails":["a@b.example"]}}]}`

	out, err := tryRun(t, cli, "", "directory", "import", "--as", "admin@familylinks.test", file("bad.json", bad))
	if err == nil || !strings.Contains(out, "nothing saved") || !strings.Contains(out, "de: phones.0.number: not a phone number of a known format") {
		t.Fatalf("a file with a bad card: %v\n%s", err, out)
	}
	if out, err := tryRun(t, cli, "", "directory", "import", "--as", "luc@croix-rouge.test", file("good.json", good)); err == nil || !strings.Contains(out, "may not edit") {
		t.Fatalf("another Society's page editor imported a card: %v\n%s", err, out)
	}
	for _, code := range []string{"de", "fr"} {
		if h, _ := st.CardHistory(t.Context(), code); len(h) != 0 {
			t.Fatalf("a refused import saved %d versions for %s", len(h), code)
		}
	}
	out = run(t, cli, "", "directory", "import", "--as", "admin@familylinks.test", filepath.Join(dir, "good.json"))
	if !strings.Contains(out, "1 drafts saved") {
		t.Fatalf("import: %s", out)
	}
	h, err := st.CardHistory(t.Context(), "de")
	if err != nil || len(h) != 1 || h[0].Status != "draft" || !strings.Contains(string(h[0].Card), `"+4930854040"`) {
		t.Fatalf("after the import: %+v %v", h, err)
	}
	if out := run(t, cli, "", "directory", "publish", "--as", "admin@familylinks.test"); !strings.Contains(out, "0 drafts published") || !strings.Contains(out, "de: left: admin@familylinks.test saved this draft") {
		t.Fatalf("the administrator who imported the card published it alone: %s", out)
	}
	if out := run(t, cli, "", "directory", "publish", "--as", "luc@croix-rouge.test"); !strings.Contains(out, "0 drafts published") || !strings.Contains(out, "may not edit") {
		t.Fatalf("another Society's editor: %s", out)
	}
	if out := run(t, cli, "", "directory", "publish", "--as", "ben@drk.test"); !strings.Contains(out, "1 drafts published") {
		t.Fatalf("the second person: %s", out)
	}

	out = run(t, cli, "", "directory", "export", filepath.Join(dir, "export.json"))
	if !strings.Contains(out, "229 places, 1 published cards") {
		t.Errorf("export says %q", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "export.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Countries []struct {
			ISO2 string
			Card *struct{ Phones []struct{ Number string } }
		}
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	cardsSeen := 0
	for _, c := range doc.Countries {
		if c.Card != nil {
			cardsSeen++
			if c.ISO2 != "de" || c.Card.Phones[0].Number != "+4930854040" {
				t.Errorf("exported card %s %+v", c.ISO2, c.Card)
			}
		}
	}
	if len(doc.Countries) != 229 || cardsSeen != 1 {
		t.Errorf("export: %d places, %d cards", len(doc.Countries), cardsSeen)
	}
	for _, personal := range []string{"admin@familylinks.test", "ben@drk.test", "saved_by", "decided_by"} {
		if strings.Contains(string(b), personal) {
			t.Errorf("the export holds %q", personal)
		}
	}
	// The export is an import file: the card is the one published.
	if out := run(t, cli, "", "directory", "import", "--as", "admin@familylinks.test", filepath.Join(dir, "export.json")); !strings.Contains(out, "0 drafts saved") || !strings.Contains(out, "1 cards unchanged") {
		t.Errorf("importing the export again: %s", out)
	}
}
