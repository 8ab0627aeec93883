package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/familylinks/familylinks/site/contact"
	"github.com/familylinks/familylinks/site/notify/smtptest"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
)

const (
	replicaA = "replica-a@familylinks.test" // the sender each replica's notices come from
	replicaB = "replica-b@familylinks.test"
	frInbox  = "inbox-fr@familylinks.test"
	password = "correct horse battery staple"
)

// TestTwoReplicas runs two `familylinks serve` processes against one
// database and one Meilisearch, as behind a load balancer, and checks that
// nothing a visitor or the outbox relies on lives in one process: a session
// started on one replica is the same session on the other, rate limits count
// requests to both, and each outbox message is handled once although both
// replicas' workers run.
func TestTwoReplicas(t *testing.T) {
	t.Parallel()
	e := newEngines(t)
	mail := smtptest.Start(t, smtptest.Options{})
	smtpURL := func(from string) string {
		return "FAMILYLINKS_SMTP_URL=smtp://127.0.0.1:" + mail.Port + "?from=" + url.QueryEscape(from) + "&starttls=off"
	}
	// The same public origin and proxy for both, as in production; both
	// migrate at start-up, together.
	common := []string{"FAMILYLINKS_AUTO_MIGRATE=true", "FAMILYLINKS_BASE_URL=http://familylinks.test", "FAMILYLINKS_TRUSTED_PROXIES=127.0.0.1"}
	a := startSite(t, "replica A", e.Env(append(common, smtpURL(replicaA))...))
	b := startSite(t, "replica B", e.Env(append(common, smtpURL(replicaB))...))
	a.Ready(t)
	b.Ready(t)

	cli := e.Env()
	run(t, cli, password+"\n", "staff", "add", "--email", "luc@croix-rouge.test", "--society", "fr", "--role", "caseworker", "--password-stdin")
	run(t, cli, password+"\n", "staff", "add", "--email", "throttled@croix-rouge.test", "--society", "fr", "--role", "caseworker", "--password-stdin")
	run(t, cli, password+"\n", "staff", "add", "--email", "admin@familylinks.test", "--role", "admin", "--password-stdin")
	st, err := store.Open(t.Context(), e.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	admin, err := st.StaffByEmail(t.Context(), "admin@familylinks.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetInbox(t.Context(), "fr", frInbox, false, admin.ID); err != nil {
		t.Fatal(err)
	}

	t.Run("session", func(t *testing.T) {
		c := newClient(t, "203.0.113.1")
		// The login form (and its signed CSRF cookie) from A, the post to B.
		if p := c.login(a.URL, b.URL, "luc@croix-rouge.test", password); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/staff/" {
			t.Fatalf("login through B: status %d, Location %q", p.Status, p.Header.Get("Location"))
		}
		session := c.cookie(b.URL, "fl_session")
		if session == "" {
			t.Fatal("no session cookie after login")
		}
		var tok string
		for _, r := range []*siteProc{b, a} {
			p := c.get(r.URL + "/staff/")
			if p.Status != http.StatusOK || !strings.Contains(p.Body, "luc@croix-rouge.test") {
				t.Fatalf("%s: the back office home is status %d, signed in as luc: %v", r.Name, p.Status, strings.Contains(p.Body, "luc@croix-rouge.test"))
			}
			if p := c.get(r.URL + "/staff/enquiries"); p.Status != http.StatusOK {
				t.Fatalf("%s: the inbox answers %d (Location %q)", r.Name, p.Status, p.Header.Get("Location"))
			}
			tok = csrf(t, p)
		}
		// Out on B (with the form token A rendered) ...
		if p := c.post(b.URL+"/staff/logout", url.Values{"_csrf": {tok}}); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/staff/login" {
			t.Fatalf("logout on B: status %d, Location %q", p.Status, p.Header.Get("Location"))
		}
		// ... is out on A, even for someone who kept the old cookie.
		kept := newClient(t, "203.0.113.1")
		p := kept.do("GET", a.URL+"/staff/enquiries", nil, &http.Cookie{Name: "fl_session", Value: session})
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/staff/login" {
			t.Fatalf("A still accepts the session ended on B: status %d, Location %q", p.Status, p.Header.Get("Location"))
		}
	})

	t.Run("society card", func(t *testing.T) {
		// Both replicas have the French page in their caches, without a
		// card. One page editor saves a draft on A, a colleague publishes
		// it on B: both replicas show it within 2 seconds.
		for _, r := range []*siteProc{a, b} {
			if p := newClient(t, "203.0.113.30").get(r.URL + "/en/countries/fr"); p.Status != http.StatusOK || strings.Contains(p.Body, "tel:") {
				t.Fatalf("%s: the French page before any card: %d", r.Name, p.Status)
			}
		}
		for _, m := range []string{"ed1@croix-rouge.test", "ed2@croix-rouge.test"} {
			run(t, cli, password+"\n", "staff", "add", "--email", m, "--society", "fr", "--role", "caseworker", "--page-editor", "--password-stdin")
		}
		ed1 := newClient(t, "203.0.113.31")
		ed1.login(a.URL, a.URL, "ed1@croix-rouge.test", password)
		tok := csrf(t, ed1.get(a.URL+"/staff/cards/fr"))
		if p := ed1.post(a.URL+"/staff/cards/fr", url.Values{"_csrf": {tok}, "phones_n": {"1"}, "phone_0_number": {"01 44 43 11 00"}, "phone_0_voice": {"yes"}, "desk_fr": {"Rétablissement des liens familiaux"}}); p.Status != http.StatusSeeOther {
			t.Fatalf("save on A: %d", p.Status)
		}
		hist, err := st.CardHistory(t.Context(), "fr")
		if err != nil || len(hist) != 1 {
			t.Fatalf("history %v %v", hist, err)
		}
		ed2 := newClient(t, "203.0.113.32")
		ed2.login(b.URL, b.URL, "ed2@croix-rouge.test", password)
		tok = csrf(t, ed2.get(b.URL+"/staff/cards/fr"))
		if p := ed2.post(b.URL+"/staff/cards/fr/"+strconv.FormatInt(hist[0].ID, 10)+"/publish", url.Values{"_csrf": {tok}}); p.Status != http.StatusSeeOther {
			t.Fatalf("publish on B: %d", p.Status)
		}
		published := time.Now()
		for _, r := range []*siteProc{a, b} {
			for {
				p := newClient(t, "203.0.113.33").get(r.URL + "/fr/countries/fr")
				if strings.Contains(p.Body, `href="tel:&#43;33144431100"`) && strings.Contains(p.Body, "Rétablissement des liens familiaux") {
					t.Logf("%s shows the card %v after it was published", r.Name, time.Since(published).Round(time.Millisecond))
					break
				}
				if time.Since(published) > 2*time.Second {
					t.Fatalf("%s does not show the card 2 s after it was published on B", r.Name)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})

	t.Run("contact rate limit", func(t *testing.T) {
		c := newClient(t, "203.0.113.10")
		replicas := []*siteProc{a, b}
		for i := range contact.RateMax {
			r := replicas[i%2]
			p, ref := c.contact(replicas[(i+1)%2].URL, r.URL, enquiry("Rate "+strconv.Itoa(i), "One of several."))
			if p.Status != http.StatusSeeOther || ref == "" {
				t.Fatalf("enquiry %d of %d, sent to %s: status %d, reference %q", i+1, contact.RateMax, r.Name, p.Status, ref)
			}
		}
		for _, r := range replicas {
			if p, ref := c.contact(r.URL, r.URL, enquiry("One too many", "Refused.")); p.Status != http.StatusTooManyRequests || ref != "" {
				t.Errorf("enquiry %d from one address, sent to %s: status %d, want %d (the limit is %d for both replicas together)",
					contact.RateMax+1, r.Name, p.Status, http.StatusTooManyRequests, contact.RateMax)
			}
		}
		// Another address is not affected.
		if p, _ := newClient(t, "203.0.113.11").contact(a.URL, b.URL, enquiry("Someone else", "Accepted.")); p.Status != http.StatusSeeOther {
			t.Errorf("an enquiry from another address: status %d", p.Status)
		}
	})

	t.Run("login throttle", func(t *testing.T) {
		c := newClient(t, "203.0.113.20")
		replicas := []*siteProc{a, b}
		for i := range staff.MaxFailsPerEmail {
			r := replicas[i%2]
			if p := c.login(r.URL, r.URL, "throttled@croix-rouge.test", "wrong password "+strconv.Itoa(i)); p.Status != http.StatusUnauthorized {
				t.Fatalf("wrong password %d on %s: status %d", i+1, r.Name, p.Status)
			}
		}
		// Five failures spread over both replicas: the right password is
		// now refused on each of them.
		for _, r := range replicas {
			// A fresh browser each: one that did sign in would be sent
			// past the form.
			c := newClient(t, c.IP)
			if p := c.login(r.URL, r.URL, "throttled@croix-rouge.test", password); p.Status != http.StatusTooManyRequests {
				t.Errorf("right password after %d failures over both replicas, on %s: status %d, want %d",
					staff.MaxFailsPerEmail, r.Name, p.Status, http.StatusTooManyRequests)
			}
		}
	})

	t.Run("outbox once", func(t *testing.T) {
		// The SMTP server holds every notice unanswered until both replicas
		// have one in flight: both workers are then working on the outbox
		// at the same time, each on messages it claimed.
		release := mail.Hold()
		t.Cleanup(release)
		const enquiries = 30 // more than one worker's batch of 20
		replicas := []*siteProc{a, b}
		for i := range enquiries {
			c := newClient(t, "198.51.100."+strconv.Itoa(1+i/5))
			if p, ref := c.contact(replicas[i%2].URL, replicas[(i+1)%2].URL, enquiry("Outbox "+strconv.Itoa(i), "Notify once.")); p.Status != http.StatusSeeOther || ref == "" {
				t.Fatalf("enquiry %d: status %d", i, p.Status)
			}
		}
		const entries = 12
		run(t, cli, "", "seed-demo", strconv.Itoa(entries))
		waitFor(t, time.Minute, "a notice in flight from each replica at once", func() bool {
			held := mail.Held()
			return slices.Contains(held, replicaA) && slices.Contains(held, replicaB)
		})
		release()

		var rows []store.OutboxRow
		// Generous: every test package shares the one Meilisearch, and its
		// task queue, in make test.
		waitFor(t, 5*time.Minute, "every outbox message handled", func() bool {
			rows, err = st.OutboxRows(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return !slices.ContainsFunc(rows, func(r store.OutboxRow) bool { return r.DoneAt == nil })
		})
		// Each claim counts an attempt, and each attempt that fails is
		// logged by the replica that made it (a busy Meilisearch may time a
		// task out): a message claimed twice at once shows as an attempt
		// more than one plus its logged failures.
		failed := map[int64]int{}
		for _, r := range replicas {
			for _, line := range strings.Split(r.out.String(), "\n") {
				var l struct {
					Msg string `json:"msg"`
					ID  int64  `json:"id"`
				}
				if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "outbox: handler failed" {
					failed[l.ID]++
				}
			}
		}
		topics := map[string]int{}
		for _, r := range rows {
			topics[r.Topic]++
			if r.Attempts != 1+failed[r.ID] {
				t.Errorf("outbox %d (%s): %d attempts, %d failures logged; want one attempt more than failures", r.ID, r.Topic, r.Attempts, failed[r.ID])
			}
		}
		if len(failed) > 0 {
			t.Logf("handler failures, retried: %v", failed)
		}

		// Every enquiry, from every subtest, was notified exactly once.
		all, err := st.Enquiries(context.Background(), store.EnquiryFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if topics[store.TopicEnquiryNotify] != len(all) || topics[store.TopicGalleryIndex] != entries {
			t.Errorf("outbox holds %v; want %d %s and %d %s", topics, len(all), store.TopicEnquiryNotify, entries, store.TopicGalleryIndex)
		}
		sent := map[string]int{}
		from := map[string]int{}
		for _, m := range mail.Messages() {
			from[m.From]++
			if len(m.To) != 1 || m.To[0] != frInbox {
				t.Errorf("a notice went to %v, want %s", m.To, frInbox)
			}
			for _, ref := range referenceRE.FindAllString(string(m.Data), -1) {
				sent[ref]++
				break // the subject; the body repeats it
			}
		}
		for _, en := range all {
			if sent[en.Reference] != 1 {
				t.Errorf("enquiry %s was notified %d times, want once", en.Reference, sent[en.Reference])
			}
			delete(sent, en.Reference)
		}
		if len(sent) > 0 {
			t.Errorf("notices for enquiries that do not exist: %v", sent)
		}
		t.Logf("%d enquiries, %d notices: %d sent by replica A, %d by replica B", len(all), len(mail.Messages()), from[replicaA], from[replicaB])

		// Every published entry is in the index, and both replicas show it.
		published, err := st.GalleryEntries(context.Background(), "", "published")
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, g := range published {
			want = append(want, g.Ref)
		}
		indexed, err := e.Search.Refs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		slices.Sort(indexed)
		if len(want) != entries || !slices.Equal(indexed, want) {
			t.Errorf("index holds %v, PostgreSQL publishes %v (want %d)", indexed, want, entries)
		}
		for _, r := range replicas {
			p := newClient(t, "").get(r.URL + "/en/trace-the-face")
			shown := cardRefs(p.Body)
			slices.Sort(shown)
			if p.Status != http.StatusOK || !slices.Equal(shown, want) {
				t.Errorf("%s gallery: status %d, shows %v, want %v", r.Name, p.Status, shown, want)
			}
		}
	})
}

var (
	referenceRE = regexp.MustCompile(`FL-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)
	cardRefRE   = regexp.MustCompile(`<span class="ref" dir="ltr">([^<]+)</span>`)
)

// cardRefs lists the references of the photos on a gallery page, in order.
func cardRefs(body string) []string {
	var out []string
	for _, m := range cardRefRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}
