package benchkit

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// CSRF is the CSRF token of the form on page, or "".
func CSRF(page []byte) string {
	if m := csrfField.FindSubmatch(page); m != nil {
		return string(m[1])
	}
	return ""
}

// Token GETs the form at u with c (which keeps the CSRF cookie) and
// returns its CSRF token.
func Token(ctx context.Context, c *http.Client, u string) (string, error) {
	resp, page, _, err := Get(ctx, c, u)
	if err == nil && CSRF(page) == "" {
		err = fmt.Errorf("no CSRF token at %s (%d)", u, resp.StatusCode)
	}
	return CSRF(page), err
}

var (
	relationships = []string{"mother", "father", "brother", "sister", "son", "daughter"}
	circumstances = []string{"migration", "conflict", "disaster", "detention"}
)

// Enquire posts enquiry n, a valid contact form with the worker's CSRF
// token, and keeps its reference in w.Acks if the site acknowledged it: a
// 303 to the confirmation page with the reference in fl_sent. It returns
// the form it posted and the answer.
func (w *Worker) Enquire(ctx context.Context, lang, residence string, n int) (Rec, url.Values, []byte) {
	id := strconv.Itoa(w.ID)
	form := url.Values{"_csrf": {w.Token}, "residence": {residence}, "lang": {lang}, "consent": {"yes"},
		"name": {"Bench Enquirer " + id}, "email": {"bench" + id + "@example.org"},
		"phone": {"+49 30 1234 " + strconv.Itoa(1000+n%9000)}, "sought_name": {"Sought Person " + strconv.Itoa(n)},
		"sought_age": {strconv.Itoa(20 + n%60)}, "sought_place": {"Tripoli"}, "lost_when": {"2023"},
		"relationship": {relationships[n%len(relationships)]}, "circumstance": {circumstances[n%len(circumstances)]},
		"message": {fmt.Sprintf("We lost contact during the journey. Any news would help; worker %d, enquiry %d.", w.ID, n)}}
	r, _, page := w.Do(ctx, "post", http.MethodPost, "/"+lang+"/contact", form, func(resp *http.Response, _ []byte) (string, string) {
		if resp.StatusCode != http.StatusSeeOther {
			return "other", "status " + strconv.Itoa(resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); loc != "/"+lang+"/contact/sent" {
			return "other", "303 to an unexpected Location " + loc
		}
		for _, c := range resp.Cookies() {
			if c.Name == "fl_sent" && c.Value != "" {
				w.Acks = append(w.Acks, c.Value)
				return "", ""
			}
		}
		return "other", "303 without an fl_sent reference"
	})
	return r, form, page
}

var pageErrors = regexp.MustCompile(`(?:class="field-error" id="e-([a-z_]+)">|class="banner"[^>]*><p>)([^<]*)<`)

// FormErrors are the error messages on a rejected form, for a setup error.
func FormErrors(page []byte) string {
	var out []string
	for _, m := range pageErrors.FindAllSubmatch(page, 8) {
		if s := strings.TrimSpace(string(m[2])); s != "" {
			out = append(out, strings.TrimSpace(string(m[1])+" "+s))
		}
	}
	return strings.Join(out, "; ")
}

// Querier is a PostgreSQL connection or pool.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// PGSettings describes the settings that decide whether a commit survives
// a crash.
func PGSettings(ctx context.Context, q Querier) string {
	rows, _ := q.Query(ctx, `SELECT format('fsync=%s synchronous_commit=%s full_page_writes=%s', current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes'))`)
	if s, err := pgx.CollectExactlyOneRow(rows, pgx.RowTo[string]); err == nil {
		return s
	}
	return "settings unknown"
}

// Durability compares the references the site acknowledged with the
// enquiries PostgreSQL holds.
type Durability struct {
	Acked   map[string]bool
	Dups    int      // acknowledgements of a reference acknowledged before
	Stored  []string // every reference in PostgreSQL
	Missing []string // acknowledged and not stored: must be none
	Unacked int      // stored and never acknowledged
	stored  map[string]bool
}

// CheckDurability reads the stored references and compares them with acked.
func CheckDurability(ctx context.Context, q Querier, acked []string) (*Durability, error) {
	rows, _ := q.Query(ctx, `SELECT reference FROM enquiries`)
	stored, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("reading the references: %w", err)
	}
	d := &Durability{Acked: map[string]bool{}, Stored: stored, stored: map[string]bool{}}
	for _, ref := range stored {
		d.stored[ref] = true
	}
	for _, ref := range acked {
		if d.Acked[ref] {
			d.Dups++
		}
		d.Acked[ref] = true
	}
	d.Missing = d.NotStored(acked)
	d.Unacked = len(stored) - (len(d.Acked) - len(d.Missing))
	return d, nil
}

// NotStored is those of refs that PostgreSQL does not hold, sorted, once each.
func (d *Durability) NotStored(refs []string) (out []string) {
	for _, ref := range refs {
		if !d.stored[ref] {
			out = append(out, ref)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
