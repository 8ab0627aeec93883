package locales

import (
	_ "embed"
	"fmt"
	"strings"
)

// readme is locales/README.md, whose review table is the one place that
// says which languages a native speaker has reviewed.
//
//go:embed README.md
var readme string

// drafts reads the review table of a README: for each URL code, whether
// its status says "draft". Every language of the site must have a row.
func drafts(text string, langs []Language) (map[string]bool, error) {
	out := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 7 {
			continue
		}
		code := strings.Trim(strings.TrimSpace(cells[2]), "`")
		status := strings.ToLower(cells[5])
		if code == "" || strings.HasPrefix(code, "-") || code == "URL code" {
			continue
		}
		out[code] = strings.Contains(status, "draft")
	}
	for _, l := range langs {
		if _, ok := out[l.Code]; !ok {
			return nil, fmt.Errorf("locales: README.md's review table has no row for %s", l.Code)
		}
	}
	return out, nil
}
