package content

import "fmt"

// CentralInbox is the ICRC central tracing inbox: the destination of last
// resort, always open.
const CentralInbox = "icrc"

// Route reasons, stored with every enquiry.
const (
	ReasonSociety          = "society"           // the Society of the residence country has an active inbox
	ReasonSocietyInactive  = "society-inactive"  // it has none: the covering ICRC delegation
	ReasonCovering         = "covering-society"  // a place without its own Society: the member Society working there
	ReasonDissolved        = "society-dissolved" // the Society was dissolved: the ICRC
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
// country's Society if its inbox is active (or, for a place without a
// Society of its own, to the member Society covering it), otherwise to the
// ICRC delegation covering the country if its inbox is active, otherwise to
// ICRC central tracing. A dissolved Society is never a destination. active
// reports whether an inbox (a Society's or a delegation's) is active.
func (d *Data) Route(residence string, active func(inbox string) bool) (Destination, error) {
	c, ok := d.Country(residence)
	if !ok {
		return Destination{}, fmt.Errorf("content: route: unknown country %q", residence)
	}
	// A delegation receives enquiries only when its inbox has caseworkers;
	// otherwise ICRC central tracing does, which always has.
	icrc := func(reason, why string) Destination {
		if dl := c.ICRCDelegation; dl != nil && active(dl.Inbox) {
			return Destination{Inbox: dl.Inbox, Reason: reason,
				Explanation: fmt.Sprintf("resident in %s: %s; %s covers the country", c.NameEN, why, dl.Name)}
		}
		if reason != ReasonDissolved {
			reason = ReasonCentral
		}
		if dl := c.ICRCDelegation; dl != nil {
			return Destination{Inbox: CentralInbox, Reason: reason,
				Explanation: fmt.Sprintf("resident in %s: %s; %s covers the country but has no active inbox", c.NameEN, why, dl.Name)}
		}
		return Destination{Inbox: CentralInbox, Reason: reason,
			Explanation: fmt.Sprintf("resident in %s: %s and no ICRC delegation is recorded", c.NameEN, why)}
	}
	switch s := c.Society; {
	case s != nil && s.Dissolved != nil:
		return icrc(ReasonDissolved, fmt.Sprintf("%s was dissolved on %s", s.NameEN, s.Dissolved.Date)), nil
	case s != nil && active(c.ISO2):
		return Destination{Inbox: c.ISO2, Reason: ReasonSociety,
			Explanation: fmt.Sprintf("resident in %s: %s has an active inbox", c.NameEN, s.NameEN)}, nil
	case s != nil:
		return icrc(ReasonSocietyInactive, fmt.Sprintf("%s has no active inbox", s.NameEN)), nil
	}
	if h, ok := d.Helper(c); ok {
		if active(h.ISO2) {
			return Destination{Inbox: h.ISO2, Reason: ReasonCovering,
				Explanation: fmt.Sprintf("resident in %s: no Society of its own; %s works there and has an active inbox", c.NameEN, h.Society.NameEN)}, nil
		}
		return icrc(ReasonNoSociety, fmt.Sprintf("no Society of its own; %s works there but has no active inbox", h.Society.NameEN)), nil
	}
	return icrc(ReasonNoSociety, "no National Society"), nil
}

// RouteGallery sends information about a Trace the Face photo to the
// Society that published it, whatever its inbox state: only it knows the
// person.
func (d *Data) RouteGallery(publisher string) (Destination, error) {
	c, ok := d.Country(publisher)
	if !ok || !c.Society.Active() {
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

// InboxNameIn names an inbox in a language: a Society's name as the IFRC
// gives it in that language (else English), a delegation's, or the ICRC's
// central tracing.
func (d *Data) InboxNameIn(inbox, lang string) string {
	if c, ok := d.Country(inbox); ok && c.Society != nil {
		return c.Society.Name(lang)
	}
	return d.InboxName(inbox)
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
		if c.Society.Active() {
			add(c.ISO2)
		}
		if c.ICRCDelegation != nil {
			add(c.ICRCDelegation.Inbox)
		}
	}
	add(CentralInbox)
	return out
}
