package locales

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// dateFormat writes a date the way a language does, from CLDR data
// (dates.json, made by gen/dates.go): its long pattern, month and weekday
// names, short time pattern and digits. Dates inside a sentence are never
// ISO strings.
type dateFormat struct {
	Pattern string    `json:"pattern"`
	Months  []string  `json:"months"`
	Days    []string  `json:"days"` // stand-alone, Sunday first
	Time    string    `json:"time"` // short: "h:mm a", "HH:mm"
	AMPM    [2]string `json:"ampm"`
	Digits  string    `json:"digits"`
}

func loadDateFormats(langs []Language) (map[string]dateFormat, error) {
	b, err := fs.ReadFile(files, "dates.json")
	if err != nil {
		return nil, fmt.Errorf("locales: %w", err)
	}
	var doc struct {
		Langs map[string]dateFormat `json:"langs"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("locales: dates.json: %w", err)
	}
	out := map[string]dateFormat{}
	for _, l := range langs {
		f, ok := doc.Langs[l.Tag.String()]
		if !ok || len(f.Months) != 12 || len(f.Days) != 7 || len([]rune(f.Digits)) != 10 || f.Pattern == "" || f.Time == "" {
			return nil, fmt.Errorf("locales: dates.json: no usable date format for %s", l.Tag)
		}
		out[l.Code] = f
	}
	return out, nil
}

// format writes t by the long date pattern.
func (f dateFormat) format(t time.Time) string { return f.layout(f.Pattern, t) }

// clock writes a time of day by the short time pattern.
func (f dateFormat) clock(t time.Time) string { return f.layout(f.Time, t) }

// layout writes t by a CLDR pattern: d, M…MMMM, y, h, H, m, a, and quoted
// literals; other letters are not used by the patterns we load.
func (f dateFormat) layout(pattern string, t time.Time) string {
	var sb strings.Builder
	p := []rune(pattern)
	for i := 0; i < len(p); {
		c := p[i]
		if c == '\'' {
			j := i + 1
			for j < len(p) && p[j] != '\'' {
				j++
			}
			if j == i+1 && j < len(p) { // '' is a quote
				sb.WriteRune('\'')
			}
			sb.WriteString(string(p[i+1 : min(j, len(p))]))
			i = j + 1
			continue
		}
		n := 1
		for i+n < len(p) && p[i+n] == c {
			n++
		}
		switch c {
		case 'd':
			sb.WriteString(f.digits(pad(t.Day(), n)))
		case 'M', 'L':
			if n >= 4 {
				sb.WriteString(f.Months[t.Month()-1])
			} else {
				sb.WriteString(f.digits(pad(int(t.Month()), n)))
			}
		case 'y':
			sb.WriteString(f.digits(strconv.Itoa(t.Year())))
		case 'H':
			sb.WriteString(f.digits(pad(t.Hour(), n)))
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			sb.WriteString(f.digits(pad(h, n)))
		case 'm':
			sb.WriteString(f.digits(pad(t.Minute(), n)))
		case 'a':
			sb.WriteString(f.AMPM[t.Hour()/12])
		default:
			sb.WriteString(strings.Repeat(string(c), n))
		}
		i += n
	}
	return sb.String()
}

func pad(v, n int) string {
	s := strconv.Itoa(v)
	for len(s) < n {
		s = "0" + s
	}
	return s
}

func (f dateFormat) digits(s string) string {
	d := []rune(f.Digits)
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return d[r-'0']
		}
		return r
	}, s)
}
