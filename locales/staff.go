package locales

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// StaffPrefix starts every message ID of the back office's catalogue
// (staff.{tag}.toml), so that it can never shadow a public message.
const StaffPrefix = "Staff"

// loadStaff adds the back office's message files to the bundle: the staff
// languages are those with a staff.{tag}.toml. English must have one.
func (c *Catalog) loadStaff() error {
	c.staffRaw = map[string]map[string]any{}
	draft, err := staffDrafts(readme)
	if err != nil {
		return err
	}
	var tags []language.Tag
	for _, l := range c.langs {
		name := "staff." + l.Tag.String() + ".toml"
		b, err := fs.ReadFile(files, name)
		if errors.Is(err, fs.ErrNotExist) && l.Code != "en" {
			continue
		}
		if err != nil {
			return fmt.Errorf("locales: %w", err)
		}
		if _, err := c.bundle.ParseMessageFileBytes(b, name); err != nil {
			return fmt.Errorf("locales: %s: %w", name, err)
		}
		var m map[string]any
		if err := toml.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("locales: %s: %w", name, err)
		}
		d, ok := draft[l.Code]
		if !ok {
			return fmt.Errorf("locales: README.md's back-office table has no row for %s", name)
		}
		l.Draft = d
		c.staffRaw[l.Code] = m
		c.staffLangs = append(c.staffLangs, l)
		tags = append(tags, l.Tag)
	}
	c.staffMatcher = language.NewMatcher(tags)
	return nil
}

// staffDrafts reads the back-office table of a README: for each language's
// URL code, whether its staff catalogue's status says "draft". Rows name
// the file (`staff.fr.toml`) in their second cell.
func staffDrafts(text string) (map[string]bool, error) {
	out := map[string]bool{}
	byTag := map[string]string{}
	for _, l := range Languages() {
		byTag[l.Tag.String()] = l.Code
	}
	for _, line := range strings.Split(text, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			continue
		}
		file := strings.Trim(strings.TrimSpace(cells[2]), "`")
		tag, ok := strings.CutPrefix(file, "staff.")
		if !ok || !strings.HasSuffix(tag, ".toml") {
			continue
		}
		code, ok := byTag[strings.TrimSuffix(tag, ".toml")]
		if !ok {
			return nil, fmt.Errorf("locales: README.md's back-office table names %s, not a site language", file)
		}
		out[code] = strings.Contains(strings.ToLower(cells[3]), "draft")
	}
	return out, nil
}

// StaffLanguages returns the languages the back office speaks (those with
// a staff catalogue), English first. Draft is the staff catalogue's status.
func (c *Catalog) StaffLanguages() []Language { return append([]Language(nil), c.staffLangs...) }

// StaffLanguage finds a back-office language by its URL code.
func (c *Catalog) StaffLanguage(code string) (Language, bool) {
	for _, l := range c.staffLangs {
		if l.Code == code {
			return l, true
		}
	}
	return Language{}, false
}

// NegotiateStaff picks the back-office language of someone not signed in:
// the language cookie when the back office speaks it, then the
// Accept-Language header, then English.
func (c *Catalog) NegotiateStaff(cookie, acceptLanguage string) Language {
	if l, ok := c.StaffLanguage(cookie); ok {
		return l
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return c.staffLangs[0]
	}
	_, i, conf := c.staffMatcher.Match(tags...)
	if conf == language.No {
		return c.staffLangs[0]
	}
	return c.staffLangs[i]
}

// checkStaff reports every gap in the back office's catalogues: a key of
// staff.en.toml missing elsewhere, a key English lacks, a placeholder lost
// or invented, a plural form missing, and a key without the Staff prefix.
func (c *Catalog) checkStaff() []error {
	var errs []error
	en := c.staffRaw["en"]
	for id := range c.raw["en"] {
		if strings.HasPrefix(id, StaffPrefix) {
			errs = append(errs, fmt.Errorf("locales: active.en.toml: message %s uses the back office's prefix %s", id, StaffPrefix))
		}
	}
	for _, l := range c.staffLangs {
		m := c.staffRaw[l.Code]
		for id, ev := range en {
			v, ok := m[id]
			if !ok {
				errs = append(errs, fmt.Errorf("locales: %s: staff message %s missing", l.Code, id))
				continue
			}
			errs = append(errs, checkMessage(l, id, ev, v)...)
		}
		for id := range m {
			if _, ok := en[id]; !ok {
				errs = append(errs, fmt.Errorf("locales: %s: staff message %s is not in English", l.Code, id))
			}
			if !strings.HasPrefix(id, StaffPrefix) {
				errs = append(errs, fmt.Errorf("locales: %s: staff message %s lacks the prefix %s", l.Code, id, StaffPrefix))
			}
		}
		loc := i18n.NewLocalizer(c.bundle, l.Tag.String())
		for id, ev := range en {
			if _, ok := ev.(map[string]any); !ok {
				continue
			}
			for _, n := range []int{0, 1, 2, 3, 5, 11, 21, 22, 100, 101, 102, 1000000} {
				if _, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: n, TemplateData: map[string]any{"Count": n}}); err != nil {
					errs = append(errs, fmt.Errorf("locales: %s: %s for count %d: %w", l.Code, id, n, err))
					break
				}
			}
		}
	}
	return errs
}

// StaffTranslator is the translator of a back-office language, by URL
// code, or English's when the back office does not speak it: the rule of
// the back office's pages, for the e-mails it sends to staff.
func (c *Catalog) StaffTranslator(code string) *Translator {
	if l, ok := c.StaffLanguage(code); ok {
		return c.Translator(l.Code)
	}
	return c.Translator(c.staffLangs[0].Code)
}
