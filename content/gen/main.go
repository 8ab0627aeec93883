// Command gen rebuilds content/countries.json from the two public records in
// content/gen/upstream, copied byte for byte from the commits named below,
// and from the few decisions written out in decisions.go (each with its
// reason and source). Run it from the repository root:
//
//	go run ./content/gen
//
// and commit the result with content/SOURCES.md. TestGeneratedDataIsCommitted
// fails when the committed file differs from what this command writes.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v2"
	"golang.org/x/text/language"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
)

// The upstream records, as read. TECH.md names these commits.
const (
	goCommit   = "72d71b75cea7df8823b05b3579c1e0664ef08a2b" // IFRCGo/go-api, 2023-04-25
	goFile     = "upstream/go-api-72d71b75-Countries.json"
	nsCommit   = "49504b2fddd5aa92ba67fdf0ad3a634f4164b994" // IFRC-Secretariat/IFRC-National-Society-Data, 2024-04-23
	nsFile     = "upstream/ifrc-ns-data-49504b2f-national_societies_info.yml"
	readOn     = "2026-12-05" // the day these copies were read and checked
	goDate     = "2023-04-25"
	nsDate     = "2024-04-23"
	goSource   = "ifrc-go"
	nsSource   = "ifrc-ns-data"
	dissolvedN = "dissolved"
)

// goRecord is one row of the IFRC GO country fixture.
type goRecord struct {
	Fields goFields `json:"fields"`
}

// goFields are the fields of a row that the site uses.
type goFields struct {
	Name          string `json:"name"`
	ISO           string `json:"iso"`
	RecordType    int    `json:"record_type"`
	Independent   *bool  `json:"independent"`
	FDRS          string `json:"fdrs"`
	SocietyName   string `json:"society_name"`
	SocietyNameEN string `json:"society_name_en"`
	SocietyNameFR string `json:"society_name_fr"`
	SocietyNameES string `json:"society_name_es"`
	SocietyNameAR string `json:"society_name_ar"`
	SocietyURL    string `json:"society_url"`
	URLIFRC       string `json:"url_ifrc"`
}

// nsRecord is one entry of the IFRC Secretariat's list.
type nsRecord struct {
	Name     string   `yaml:"National Society name"`
	Country  string   `yaml:"Country"`
	ISO2     any      `yaml:"ISO2"` // a string, or [] for Namibia
	ISO3     string   `yaml:"ISO3"`
	Region   string   `yaml:"Region"`
	ID       string   `yaml:"National Society ID"`
	AltNames []string `yaml:"Alternative National Society names"`
}

var dissolvedOn = regexp.MustCompile(`(?i)dissolved (\d{1,2} [a-z]+ \d{4})`)

func main() {
	dir := flag.String("dir", "content", "the content directory")
	flag.Parse()
	out, report, err := build(filepath.Join(*dir, "gen"))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(*dir, "countries.json"), out, 0o644); err != nil {
		log.Fatal(err)
	}
	srcPath := filepath.Join(*dir, "SOURCES.md")
	md, err := os.ReadFile(srcPath)
	if err != nil {
		log.Fatal(err)
	}
	md, err = websitesSection(md, out)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(srcPath, md, 0o644); err != nil {
		log.Fatal(err)
	}
	_, _ = io.WriteString(os.Stderr, report)
}

// build returns the new countries.json and a report of what it decided.
func build(genDir string) ([]byte, string, error) {
	var gos []goRecord
	b, err := os.ReadFile(filepath.Join(genDir, goFile))
	if err != nil {
		return nil, "", err
	}
	if err := json.Unmarshal(b, &gos); err != nil {
		return nil, "", fmt.Errorf("%s: %w", goFile, err)
	}
	var nss []nsRecord
	b, err = os.ReadFile(filepath.Join(genDir, nsFile))
	if err != nil {
		return nil, "", err
	}
	if err := yaml.Unmarshal(b, &nss); err != nil {
		return nil, "", fmt.Errorf("%s: %w", nsFile, err)
	}
	cat, err := locales.Load(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return nil, "", err
	}
	english := cat.Translator("en")

	byISO := map[string]goRecord{}
	for _, g := range gos {
		if g.Fields.ISO != "" && g.Fields.RecordType == 1 {
			byISO[strings.ToLower(g.Fields.ISO)] = g
		}
	}
	var rep strings.Builder
	d := content.Data{Sources: sources(), Countries: nil}
	hosts := map[string]string{}
	seen := map[string]bool{}
	for _, n := range nss {
		iso, _ := n.ISO2.(string)
		iso = strings.ToLower(iso)
		if iso == "" && n.ISO3 == "NAM" {
			iso = "na" // the list gives ISO2: [] for Namibia
		}
		if iso == "" && n.Country == "Kosovo" {
			iso = "xk" // the code CLDR and IFRC GO use
		}
		if iso == "" {
			return nil, "", fmt.Errorf("no ISO2 for %q", n.Country)
		}
		seen[iso] = true
		c := content.Country{ISO2: iso, NameEN: english.Country(iso), Region: region(n.Region),
			Sources: []string{nsSource}, LastVerified: readOn}
		g, inGO := byISO[iso]
		if n.ID != "" {
			c.Society = society(n, g.Fields, inGO, &rep)
			if w := c.Society.Website; w != "" {
				h := host(w)
				if other, dup := hosts[h]; dup {
					return nil, "", fmt.Errorf("website %s given for both %s and %s", h, other, iso)
				}
				hosts[h] = iso
			}
		} else {
			placeWithout(&c, n, g.Fields, inGO, byISO)
		}
		decide(&c)
		d.Countries = append(d.Countries, c)
	}
	// Places IFRC GO lists as not independent that the Secretariat's list
	// leaves out: each may be where a person lives.
	for _, iso := range sortedKeys(byISO) {
		g := byISO[iso]
		if seen[iso] || g.Fields.Independent == nil || *g.Fields.Independent {
			continue
		}
		if why, skip := uninhabited[iso]; skip {
			fmt.Fprintf(&rep, "left out %s (%s): %s\n", iso, g.Fields.Name, why)
			continue
		}
		r, ok := geography[iso]
		if !ok {
			return nil, "", fmt.Errorf("%s (%s): no region in geography", iso, g.Fields.Name)
		}
		c := content.Country{ISO2: iso, NameEN: english.Country(iso), Region: r, Sources: []string{goSource}, LastVerified: readOn}
		placeWithout(&c, nsRecord{}, g.Fields, true, byISO)
		decide(&c)
		d.Countries = append(d.Countries, c)
	}
	sort.Slice(d.Countries, func(i, j int) bool { return d.Countries[i].ISO2 < d.Countries[j].ISO2 })
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, "", err
	}
	if _, err := content.Parse(buf.Bytes()); err != nil {
		return nil, "", fmt.Errorf("the generated data does not validate: %w", err)
	}
	return buf.Bytes(), rep.String(), nil
}

// society builds a member Society from the Secretariat's entry (names, ID)
// and IFRC GO's (website, directory page, names in fr, es and ar).
func society(n nsRecord, g goFields, inGO bool, rep *strings.Builder) *content.Society {
	s := &content.Society{NameEN: strings.TrimPrefix(n.Name, "Israel - "), IFRCID: n.ID, Sources: []string{nsSource}}
	for _, alt := range n.AltNames {
		if m := dissolvedOn.FindStringSubmatch(alt); m != nil {
			t, err := time.Parse("2 January 2006", titleMonth(m[1]))
			if err != nil {
				log.Fatalf("%s: dissolution date %q: %v", n.Name, m[1], err)
			}
			s.Dissolved = &content.Dissolution{Date: t.Format(time.DateOnly), Sources: []string{nsSource}}
		}
	}
	if !inGO {
		fmt.Fprintf(rep, "%s: not in IFRC GO\n", n.Name)
		return s
	}
	s.Sources = append(s.Sources, goSource)
	if g.FDRS != "" && g.FDRS != n.ID {
		fmt.Fprintf(rep, "%s: IFRC GO says ID %s, the Secretariat %s (kept)\n", n.Name, g.FDRS, n.ID)
	}
	if g.SocietyNameEN != "" && g.SocietyNameEN != s.NameEN {
		fmt.Fprintf(rep, "%s: IFRC GO's English name is %q (the Secretariat's kept)\n", s.NameEN, g.SocietyNameEN)
	}
	s.Names = map[string]string{}
	for lang, v := range map[string]string{"fr": g.SocietyNameFR, "es": g.SocietyNameES, "ar": g.SocietyNameAR} {
		v = strings.TrimSpace(v)
		// A name equal to the English one is an untranslated field, not
		// a name in that language.
		if v != "" && v != g.SocietyNameEN && v != s.NameEN {
			s.Names[lang] = v
		}
	}
	if len(s.Names) == 0 {
		s.Names = nil
	}
	if base, _ := language.Make("und-" + g.ISO).Base(); s.Names[base.String()] != "" {
		s.NameLocal, s.NameLocalLang = s.Names[base.String()], base.String()
	}
	s.IFRCURL = g.URLIFRC
	if s.Dissolved != nil {
		if g.SocietyURL != "" {
			fmt.Fprintf(rep, "%s: dissolved on %s; its website %s is not linked\n", s.NameEN, s.Dissolved.Date, g.SocietyURL)
		}
		return s
	}
	// The scheme is kept as the record gives it: never upgraded by guess.
	s.Website = strings.TrimSpace(g.SocietyURL)
	return s
}

// placeWithout fills a place that has no member Society: the member
// Society IFRC GO names for it (when that is a member's own name) covers
// it; any other name is a local organisation, shown but not routed to.
func placeWithout(c *content.Country, n nsRecord, g goFields, inGO bool, byISO map[string]goRecord) {
	name, src := strings.TrimSpace(g.SocietyName), goSource
	if name == "" && n.Name != "" {
		name, src = n.Name, nsSource
	}
	if name == "" {
		return
	}
	for _, iso := range sortedKeys(byISO) {
		o := byISO[iso]
		if o.Fields.FDRS != "" && o.Fields.SocietyName == name && iso != c.ISO2 {
			c.CoveredBy = &content.Cover{Society: iso, Sources: []string{src}}
			return
		}
	}
	c.LocalOrg = &content.LocalOrg{Name: name, Website: strings.TrimSpace(g.SocietyURL), Sources: []string{src}}
}

func region(s string) content.Region {
	switch s {
	case "Africa":
		return content.Africa
	case "Americas":
		return content.Americas
	case "Asia Pacific":
		return content.AsiaPacific
	case "Europe and Central Asia", "Europe":
		return content.Europe
	case "Middle East and North Africa":
		return content.MENA
	}
	log.Fatalf("unknown region %q", s)
	return ""
}

func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// titleMonth turns "9 may 2023" into "9 May 2023" for time.Parse.
func titleMonth(s string) string {
	f := strings.Fields(s)
	if len(f) == 3 && f[1] != "" {
		f[1] = strings.ToUpper(f[1][:1]) + f[1][1:]
	}
	return strings.Join(f, " ")
}

func sortedKeys(m map[string]goRecord) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

const (
	websitesBegin = "<!-- websites: written by go run ./content/gen -->"
	websitesEnd   = "<!-- end of websites -->"
)

// websitesSection rewrites the table of websites in SOURCES.md between its
// markers: every link the pages show, its source, and that no source after
// the IFRC GO record of 2023-04-25 confirms it.
func websitesSection(md, countriesJSON []byte) ([]byte, error) {
	d, err := content.Parse(countriesJSON)
	if err != nil {
		return nil, err
	}
	var sb strings.Builder
	sb.WriteString(websitesBegin + "\n\n")
	sb.WriteString("| place | Society or organisation | website, as the source gives it | source | confirmed after 2023 |\n|---|---|---|---|---|\n")
	for _, c := range d.Countries {
		switch {
		case c.Society.Active() && c.Society.Website != "":
			fmt.Fprintf(&sb, "| %s | %s | %s | IFRC GO %s | no |\n", c.ISO2, c.Society.NameEN, c.Society.Website, goDate)
		case c.LocalOrg != nil && c.LocalOrg.Website != "":
			fmt.Fprintf(&sb, "| %s | %s (not a member) | %s | IFRC GO %s | no |\n", c.ISO2, c.LocalOrg.Name, c.LocalOrg.Website, goDate)
		}
	}
	sb.WriteString("\n" + websitesEnd)
	s := string(md)
	i, j := strings.Index(s, websitesBegin), strings.Index(s, websitesEnd)
	if i < 0 || j < i {
		return nil, fmt.Errorf("SOURCES.md: markers %q and %q not found", websitesBegin, websitesEnd)
	}
	return []byte(s[:i] + sb.String() + s[j+len(websitesEnd):]), nil
}
