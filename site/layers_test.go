package site_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDependenciesPointOneWay holds the layout of STYLE.md to the code as
// go list sees it (non-test imports): cmd → site → features → {web,
// cards…} → {store, search, content, locales}. No feature imports another
// (what two share moves down); the web kit imports no database driver; the
// layers below the features import no feature and not the kit; only the
// store speaks to PostgreSQL; search does not know the store.
func TestDependenciesPointOneWay(t *testing.T) {
	const mod = "github.com/familylinks/familylinks/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[strings.TrimPrefix(f[0], mod)] = f[1:]
	}
	features := []string{"site/countries", "site/pages", "site/meta", "site/contact", "site/gallery", "site/staff", "site/directory"}
	below := []string{"site/web", "site/cards", "site/crypt", "site/photo", "site/notify", "site/store", "search", "content", "content/vocab", "locales"}
	for _, f := range append(features, below...) {
		if _, ok := imports[f]; !ok {
			t.Fatalf("package %s is gone: update this test and STYLE.md", f)
		}
	}
	uses := func(pkg, dep string) bool {
		return slices.ContainsFunc(imports[pkg], func(i string) bool { return i == mod+dep || strings.HasPrefix(i, dep) })
	}
	for _, f := range features {
		for _, g := range features {
			if f != g && uses(f, g) {
				t.Errorf("feature %s imports feature %s: move what they share down", f, g)
			}
		}
	}
	for _, p := range below {
		for _, f := range features {
			if uses(p, f) {
				t.Errorf("%s imports the feature %s: dependencies point down", p, f)
			}
		}
		if p != "site/web" && uses(p, "site/web") {
			t.Errorf("%s imports the web kit", p)
		}
	}
	for pkg := range imports {
		if pkg != "site/store" && !strings.HasPrefix(pkg, "deploy/") && !strings.HasPrefix(pkg, "internal/") && !strings.HasSuffix(pkg, "test") && uses(pkg, "github.com/jackc/pgx") {
			t.Errorf("%s imports pgx: only the store speaks to PostgreSQL", pkg)
		}
	}
	if uses("search", "site/store") {
		t.Error("search imports the store")
	}
	// The check can fail: a feature importing another is seen.
	imports["site/staff"] = append(imports["site/staff"], mod+"site/contact")
	if !uses("site/staff", "site/contact") {
		t.Error("the test cannot see an import")
	}
}
