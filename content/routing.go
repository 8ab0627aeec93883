package content

import "fmt"

// CentralInbox is the ICRC central tracing inbox: the destination of last
// resort, always open.
const CentralInbox = "icrc"

// Route reasons, stored with every enquiry.
const (
	ReasonSociety          = "society"           // the Society of the residence country has an active inbox
	ReasonSocietyInactive  = "society-inactive"  // it has none: the covering ICRC delegation
	ReasonNoSociety        = "no-society"        // no Society: the covering ICRC delegation
	ReasonCentral          = "central"           // no active inbox and no delegation named: ICRC central tracing
	ReasonGalleryPublisher = "gallery-publisher" // information on a gallery photo: the publishing Society
	ReasonTransferred      = "transferred"       // moved by staff
)

// Destination is where an enquiry goes, and why.
type Destination struct {
	// Inbox is a Society's ISO code, an ICRC delegation's "icrc-…" code, or
	// CentralInbox.
	Inbox string
	// Reason is one of the Reason constants.
	Reason string
	// Explanation says the same in a sentence, for staff and `routes`.
	Explanation string
}

// Route sends an enquiry from someone living in residence: to that
// country's Society if its inbox is active, otherwise to the ICRC
// delegation covering the country, otherwise to ICRC central tracing.
// active reports whether a Society's inbox is active.
func (d *Data) Route(residence string, active func(inbox string) bool) (Destination, error) {
	c, ok := d.Country(residence)
	if !ok {
		return Destination{}, fmt.Errorf("content: route: unknown country %q", residence)
	}
	if s := c.Society; s != nil {
		if active(c.ISO2) {
			return Destination{Inbox: c.ISO2, Reason: ReasonSociety,
				Explanation: fmt.Sprintf("resident in %s: %s has an active inbox", c.NameEN, s.NameEN)}, nil
		}
		if dl := c.ICRCDelegation; dl != nil {
			return Destination{Inbox: dl.Inbox, Reason: ReasonSocietyInactive,
				Explanation: fmt.Sprintf("resident in %s: %s has no active inbox; %s covers the country", c.NameEN, s.NameEN, dl.Name)}, nil
		}
		return Destination{Inbox: CentralInbox, Reason: ReasonCentral,
			Explanation: fmt.Sprintf("resident in %s: %s has no active inbox and no ICRC delegation is recorded", c.NameEN, s.NameEN)}, nil
	}
	if dl := c.ICRCDelegation; dl != nil {
		return Destination{Inbox: dl.Inbox, Reason: ReasonNoSociety,
			Explanation: fmt.Sprintf("resident in %s: no National Society; %s covers the country", c.NameEN, dl.Name)}, nil
	}
	return Destination{Inbox: CentralInbox, Reason: ReasonCentral,
		Explanation: fmt.Sprintf("resident in %s: no National Society and no ICRC delegation recorded", c.NameEN)}, nil
}

// RouteGallery sends information about a Trace the Face photo to the
// Society that published it, whatever its inbox state: only it knows the
// person.
func (d *Data) RouteGallery(publisher string) (Destination, error) {
	c, ok := d.Country(publisher)
	if !ok || c.Society == nil {
		return Destination{}, fmt.Errorf("content: route: %q publishes no gallery", publisher)
	}
	return Destination{Inbox: c.ISO2, Reason: ReasonGalleryPublisher,
		Explanation: fmt.Sprintf("information on a gallery photo published by %s", c.Society.NameEN)}, nil
}

// InboxName names an inbox for people: the Society's English name, the
// delegation's, or the ICRC's central tracing.
func (d *Data) InboxName(inbox string) string {
	if inbox == CentralInbox {
		return "ICRC Central Tracing Agency"
	}
	if c, ok := d.Country(inbox); ok && c.Society != nil {
		return c.Society.NameEN
	}
	for _, c := range d.Countries {
		if dl := c.ICRCDelegation; dl != nil && dl.Inbox == inbox {
			return dl.Name
		}
	}
	return inbox
}

// Inboxes lists every inbox an enquiry can reach: each Society's, each
// delegation's, and the central one.
func (d *Data) Inboxes() []string {
	seen := map[string]bool{}
	var out []string
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, c := range d.Countries {
		if c.Society != nil {
			add(c.ISO2)
		}
		if c.ICRCDelegation != nil {
			add(c.ICRCDelegation.Inbox)
		}
	}
	add(CentralInbox)
	return out
}
