package content

import (
	"strings"
	"testing"
)

// TestRouteEveryCountry routes an enquiry from every country the site
// covers, with every Society's inbox active and then with none active.
func TestRouteEveryCountry(t *testing.T) {
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	all := func(string) bool { return true }
	none := func(string) bool { return false }
	for _, c := range d.Countries {
		dst, err := d.Route(c.ISO2, all)
		if err != nil {
			t.Fatalf("%s: %v", c.ISO2, err)
		}
		switch {
		case c.Society != nil && c.Society.Dissolved != nil:
			if dst.Reason != ReasonDissolved || dst.Inbox == c.ISO2 {
				t.Errorf("%s: dissolved Society, routed to %s (%s)", c.ISO2, dst.Inbox, dst.Reason)
			}
		case c.Society != nil && (dst.Inbox != c.ISO2 || dst.Reason != ReasonSociety):
			t.Errorf("%s: active Society inbox, routed to %s (%s)", c.ISO2, dst.Inbox, dst.Reason)
		case c.CoveredBy != nil && (dst.Inbox != c.CoveredBy.Society || dst.Reason != ReasonCovering):
			t.Errorf("%s: covered by %s, routed to %s (%s)", c.ISO2, c.CoveredBy.Society, dst.Inbox, dst.Reason)
		case c.Society == nil && c.CoveredBy == nil && c.ICRCDelegation == nil && (dst.Inbox != CentralInbox || dst.Reason != ReasonCentral):
			t.Errorf("%s: no Society, no delegation, routed to %s (%s)", c.ISO2, dst.Inbox, dst.Reason)
		case c.Society == nil && c.ICRCDelegation != nil && dst.Inbox != c.ICRCDelegation.Inbox:
			t.Errorf("%s: no Society, routed to %s instead of the delegation", c.ISO2, dst.Inbox)
		}
		if dst.Explanation == "" {
			t.Errorf("%s: no explanation stored", c.ISO2)
		}
		dst, _ = d.Route(c.ISO2, none)
		if dst.Inbox != CentralInbox {
			t.Errorf("%s: with no inbox active, ICRC central tracing must receive it, got %s", c.ISO2, dst.Inbox)
		}
	}
	if _, err := d.Route("zz", all); err == nil {
		t.Error("an unknown country must not route")
	}
}

func TestRouteTable(t *testing.T) {
	d, err := Parse([]byte(`{"sources":{"s":{"title":"S","url":"https://example.org/"}},"countries":[
	 {"iso2":"de","name_en":"Germany","region":"europe","society":{"name_en":"German Red Cross","name_local":"","ifrc_id":"DDE001","website":"","services":[],"contact":{"address":"","phone":"","email":"","hours":""},"sources":["s"]},"icrc_delegation":{"name":"ICRC Berlin","url":"","inbox":"icrc-berlin","sources":["s"]},"sources":["s"],"last_verified":"2026-01-01"},
	 {"iso2":"fr","name_en":"France","region":"europe","society":{"name_en":"French Red Cross","name_local":"","ifrc_id":"DFR001","website":"","services":[],"contact":{"address":"","phone":"","email":"","hours":""},"sources":["s"]},"icrc_delegation":null,"sources":["s"],"last_verified":"2026-01-01"},
	 {"iso2":"om","name_en":"Oman","region":"mena","society":null,"icrc_delegation":{"name":"ICRC Kuwait","url":"","inbox":"icrc-kuwait","sources":["s"]},"sources":["s"],"last_verified":"2026-01-01"},
	 {"iso2":"nr","name_en":"Nauru","region":"asia-pacific","society":null,"icrc_delegation":null,"sources":["s"],"last_verified":"2026-01-01"},
	 {"iso2":"us","name_en":"United States","region":"americas","society":{"name_en":"American Red Cross","name_local":"","ifrc_id":"DUS001","website":"","services":[],"contact":{"address":"","phone":"","email":"","hours":""},"sources":["s"]},"icrc_delegation":null,"sources":["s"],"last_verified":"2026-01-01"},
	 {"iso2":"ni","name_en":"Nicaragua","region":"americas","society":{"name_en":"Nicaraguan Red Cross","name_local":"","ifrc_id":"DNI001","website":"","dissolved":{"date":"2023-05-09","sources":["s"]},"services":[],"contact":{"address":"","phone":"","email":"","hours":""},"sources":["s"]},"icrc_delegation":null,"sources":["s"],"last_verified":"2026-01-01"},
	 {"iso2":"pr","name_en":"Puerto Rico","region":"americas","society":null,"covered_by":{"society":"fr","sources":["s"]},"icrc_delegation":null,"sources":["s"],"last_verified":"2026-01-01"},
	 {"iso2":"gu","name_en":"Guam","region":"asia-pacific","society":null,"covered_by":{"society":"us","sources":["s"]},"icrc_delegation":null,"sources":["s"],"last_verified":"2026-01-01"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	onlyFR := func(inbox string) bool { return inbox == "fr" || inbox == "icrc-berlin" || inbox == "icrc-kuwait" }
	tests := []struct{ residence, inbox, reason string }{
		{"fr", "fr", ReasonSociety},
		{"de", "icrc-berlin", ReasonSocietyInactive},
		{"om", "icrc-kuwait", ReasonNoSociety},
		{"nr", CentralInbox, ReasonCentral},
		{"pr", "fr", ReasonCovering},
		{"gu", CentralInbox, ReasonCentral},
		{"ni", CentralInbox, ReasonDissolved},
	}
	for _, tt := range tests {
		dst, err := d.Route(tt.residence, onlyFR)
		if err != nil || dst.Inbox != tt.inbox || dst.Reason != tt.reason {
			t.Errorf("%s: got %+v %v, want %s (%s)", tt.residence, dst, err, tt.inbox, tt.reason)
		}
	}
	g, err := d.RouteGallery("de")
	if err != nil || g.Inbox != "de" || g.Reason != ReasonGalleryPublisher || !strings.Contains(g.Explanation, "German Red Cross") {
		t.Errorf("gallery: %+v %v", g, err)
	}
	if _, err := d.RouteGallery("om"); err == nil {
		t.Error("a country without a Society publishes no gallery")
	}
	if _, err := d.RouteGallery("ni"); err == nil {
		t.Error("a dissolved Society publishes no gallery")
	}
	if got := strings.Join(d.Inboxes(), ","); got != "de,icrc-berlin,fr,icrc-kuwait,us,icrc" {
		t.Errorf("inboxes %s", got)
	}
}
