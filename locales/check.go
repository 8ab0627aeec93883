package locales

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// pluralCategories returns the CLDR plural categories a language needs, as
// go-i18n applies them.
func pluralCategories(code string) []string {
	switch code {
	case "fr", "es":
		return []string{"one", "many", "other"}
	case "ru", "uk":
		return []string{"one", "few", "many", "other"}
	case "ar":
		return []string{"zero", "one", "two", "few", "many", "other"}
	default: // en, prs, ps, so, ti
		return []string{"one", "other"}
	}
}

// ConsentMessages are the two sentences of the consent rule, one for each
// direction: what the enquirer says reaches the person sought only with the
// enquirer's consent, and where the person sought is reaches the enquirer
// only with theirs. Each page that states the rule says both.
func ConsentMessages() []string { return []string{"ConsentEnquirer", "ConsentSought"} }

// checkConsent reports a language whose consent sentences are missing,
// empty, or the same sentence twice (one party left out).
func (c *Catalog) checkConsent() []error {
	var errs []error
	ids := ConsentMessages()
	for _, l := range c.langs {
		m := c.raw[l.Code]
		var got []string
		for _, id := range ids {
			s, _ := m[id].(string)
			if strings.TrimSpace(s) == "" {
				errs = append(errs, fmt.Errorf("locales: %s: the consent rule lacks %s (both parties' consent must be said)", l.Code, id))
			}
			got = append(got, strings.TrimSpace(s))
		}
		if len(got) == 2 && got[0] != "" && got[0] == got[1] {
			errs = append(errs, fmt.Errorf("locales: %s: %s and %s are the same sentence", l.Code, ids[0], ids[1]))
		}
	}
	return errs
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

// Check reports every gap in the catalogues: a language without its file, a
// key missing or unknown, a plural form missing, a placeholder lost or
// invented, and a country code in countries with no name in some language.
// The back office's catalogues are checked the same way (checkStaff).
func (c *Catalog) Check(countries []string) error {
	errs := append(c.checkConsent(), c.checkStaff()...)
	en := c.raw["en"]
	for _, l := range c.langs {
		m, ok := c.raw[l.Code]
		if !ok {
			errs = append(errs, fmt.Errorf("locales: %s: no message file active.%s.toml", l.Code, l.Tag))
			continue
		}
		for _, id := range c.messageIDs {
			v, ok := m[id]
			if !ok {
				errs = append(errs, fmt.Errorf("locales: %s: message %s missing", l.Code, id))
				continue
			}
			errs = append(errs, checkMessage(l, id, en[id], v)...)
		}
		for id := range m {
			if _, ok := en[id]; !ok {
				errs = append(errs, fmt.Errorf("locales: %s: message %s is not in English", l.Code, id))
			}
		}
		loc := i18n.NewLocalizer(c.bundle, l.Tag.String())
		for _, id := range c.messageIDs {
			if _, ok := en[id].(map[string]any); !ok {
				continue
			}
			// These counts select every category of every site language.
			for _, n := range []int{0, 1, 2, 3, 5, 11, 21, 22, 100, 101, 102, 1000000} {
				if _, err := loc.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: n, TemplateData: map[string]any{"Count": n}}); err != nil {
					errs = append(errs, fmt.Errorf("locales: %s: %s for count %d: %w", l.Code, id, n, err))
					break
				}
			}
		}
		for _, iso := range countries {
			if c.regions.lookup(l.Code, iso) == "" {
				errs = append(errs, fmt.Errorf("locales: %s: no name for country %s", l.Code, iso))
			}
		}
	}
	return errors.Join(errs...)
}

func checkMessage(l Language, id string, en, v any) []error {
	var errs []error
	switch ev := en.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return []error{fmt.Errorf("locales: %s: message %s must be a plain string", l.Code, id)}
		}
		errs = append(errs, checkText(l, id, ev, s)...)
	case map[string]any:
		t, ok := v.(map[string]any)
		if !ok {
			return []error{fmt.Errorf("locales: %s: message %s must be a plural table", l.Code, id)}
		}
		ref, _ := ev["other"].(string)
		for _, cat := range pluralCategories(l.Code) {
			s, ok := t[cat].(string)
			if !ok {
				errs = append(errs, fmt.Errorf("locales: %s: message %s lacks plural form %q", l.Code, id, cat))
				continue
			}
			errs = append(errs, checkText(l, id+"."+cat, ref, s)...)
		}
	}
	return errs
}

func checkText(l Language, id, en, s string) []error {
	if strings.TrimSpace(s) == "" {
		return []error{fmt.Errorf("locales: %s: message %s is empty", l.Code, id)}
	}
	want, got := placeholders(en), placeholders(s)
	if strings.Join(want, ",") != strings.Join(got, ",") {
		return []error{fmt.Errorf("locales: %s: message %s has placeholders %v, English has %v", l.Code, id, got, want)}
	}
	return nil
}

func placeholders(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// SafetyMessages are the messages that protect people and that every
// language must have: the consent sentences and the anti-scam notice.
func SafetyMessages() []string {
	return append(ConsentMessages(), "ScamHeading", "ScamNotice")
}

// Require reports each message ID that some language lacks (English
// included): for messages the code or the data needs by name.
func (c *Catalog) Require(ids []string) error {
	var errs []error
	for _, l := range c.langs {
		for _, id := range ids {
			v, ok := c.raw[l.Code][id]
			if s, isText := v.(string); !ok || isText && strings.TrimSpace(s) == "" {
				errs = append(errs, fmt.Errorf("locales: %s: required message %s missing", l.Code, id))
			}
		}
	}
	return errors.Join(errs...)
}
