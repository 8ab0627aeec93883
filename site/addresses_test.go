package site_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store"
)

// TestNoVisitorAddressStored: a visitor behind the trusted proxy sends the
// contact form, looks at the gallery and a photo, and loads the photo; then
// no column of any table holds their address, in any form we can think of.
// IPv4 and IPv6 (whose rate limits count the /64) are both tried.
func TestNoVisitorAddressStored(t *testing.T) {
	e := sitetest.NewWith(t, site.Config{BaseURL: sitetest.BaseURL, TrustedProxies: []string{"0.0.0.0"}})
	e.Account(t, "a@drk.example", "de", store.RoleCaseworker)
	e.Account(t, "b@drk.example", "de", store.RoleCaseworker)
	e.Publish(t, "TTF-7Q4K2", "female", "af", "sister")
	visitors := map[string][]string{
		"198.51.100.77":          {"198.51.100.77"},
		"2001:db8:feed:beef::77": {"2001:db8:feed:beef", "2001:0db8:feed:beef"},
	}
	for ip := range visitors {
		b := e.Browser(t)
		b.Header.Set("X-Real-IP", ip)
		form := b.Get("/en/contact?country=de")
		res := b.Do("POST", "/en/contact", url.Values{"_csrf": {sitetest.CSRF(t, form)},
			"residence": {"de"}, "name": {"Amina"}, "email": {"amina@example.org"}, "lang": {"en"},
			"sought_name": {"Yusuf"}, "sought_age": {"45"}, "sought_place": {"Kabul"}, "lost_when": {"2023"},
			"relationship": {"son"}, "circumstance": {"conflict"}, "message": {"Last seen near the border."}, "consent": {"yes"}})
		if res.Status != http.StatusSeeOther {
			t.Fatalf("contact from %s: %d", ip, res.Status)
		}
		if p := b.Get("/en/trace-the-face"); p.Status != http.StatusOK {
			t.Fatalf("gallery from %s: %d", ip, p.Status)
		}
		show := b.Get("/en/trace-the-face/TTF-7Q4K2")
		if show.Status != http.StatusOK {
			t.Fatalf("photo page from %s: %d", ip, show.Status)
		}
		if img := b.Get("/media/TTF-7Q4K2/320.jpg"); img.Status != http.StatusOK {
			t.Fatalf("media from %s: %d", ip, img.Status)
		}
		info := b.Do("POST", "/en/contact", url.Values{"_csrf": {sitetest.CSRF(t, show)}, "about": {"TTF-7Q4K2"},
			"message": {"I saw her in Kabul."}, "name": {"Gul"}, "phone": {"+49 30 1234567"}, "residence": {"de"}, "lang": {"en"}, "consent": {"yes"}})
		if info.Status != http.StatusSeeOther {
			t.Fatalf("information from %s: %d", ip, info.Status)
		}
	}
	// The counters exist (so the walk below looks where they are).
	if n, err := e.Store.CountHits(context.Background()); err != nil || n == 0 {
		t.Fatalf("no rate-limit rows (%d, %v): the test walked nothing", n, err)
	}
	for ip, needles := range visitors {
		for _, needle := range needles {
			for _, where := range columnsHolding(t, e.Store, needle) {
				t.Errorf("the address of visitor %s is stored: %q in %s", ip, needle, where)
			}
		}
	}
}

// columnsHolding walks information_schema and returns every table.column
// whose value, as text (or, for bytea, as bytes), contains needle.
func columnsHolding(t *testing.T, st *store.Store, needle string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := st.Pool().Query(ctx, `
		SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
		WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	type col struct{ table, column, typ string }
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.column, &c.typ); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cols) < 20 {
		t.Fatalf("only %d columns found", len(cols))
	}
	var found []string
	for _, c := range cols {
		q := fmt.Sprintf(`SELECT count(*) FROM %q WHERE strpos(lower(%q::text), lower($1)) > 0`, c.table, c.column)
		if c.typ == "bytea" {
			q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE position(convert_to($1, 'UTF8') IN %q) > 0`, c.table, c.column)
		}
		var n int
		if err := st.Pool().QueryRow(ctx, q, needle).Scan(&n); err != nil {
			t.Fatalf("%s.%s: %v", c.table, c.column, err)
		}
		if n > 0 {
			found = append(found, c.table+"."+c.column)
		}
	}
	return found
}

// TestNoVisitorAddressStoredCanFail makes sure the walk above sees a column
// that holds an address: the audit log keeps a staff sign-in's.
func TestNoVisitorAddressStoredCanFail(t *testing.T) {
	e := sitetest.NewWith(t, site.Config{BaseURL: sitetest.BaseURL, TrustedProxies: []string{"0.0.0.0"}})
	e.Account(t, "ana@drk.example", "de", store.RoleCaseworker)
	b := e.Browser(t)
	b.Header.Set("X-Real-IP", "192.0.2.201")
	if res := b.Login("ana@drk.example", sitetest.Password); res.Status != http.StatusSeeOther {
		t.Fatalf("login: %d", res.Status)
	}
	if got := strings.Join(columnsHolding(t, e.Store, "192.0.2.201"), ","); got != "audit_log.ip" {
		t.Errorf("a staff sign-in's address found in %q, want audit_log.ip", got)
	}
}
