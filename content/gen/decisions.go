package main

import (
	"log"

	"github.com/familylinks/familylinks/content"
)

// sources are every source countries.json cites. Data files (GitHub) are
// marked: the public page shows them only for a claim nothing else makes.
func sources() map[string]content.Source {
	return map[string]content.Source{
		goSource: {Title: "IFRC GO, go-api api/fixtures/Countries.json", Date: goDate, Data: true,
			URL: "https://github.com/IFRCGo/go-api/blob/" + goCommit + "/api/fixtures/Countries.json"},
		nsSource: {Title: "IFRC Secretariat, IFRC-National-Society-Data, national_societies_info.yml", Date: nsDate, Data: true,
			URL: "https://github.com/IFRC-Secretariat/IFRC-National-Society-Data/blob/" + nsCommit + "/ifrc_ns_data/common/national_societies_info.yml"},
		// Names the GCC countries, Oman among them, and the ICRC's family
		// links work there (tracing, messages, calls).
		"icrc-gcc": {Title: "ICRC, Gulf Cooperation Council (GCC) Countries",
			URL: "https://www.icrc.org/en/where-we-work/gulf-cooperation-council-gcc-countries"},
		// "The ICRC regional delegation in the Pacific is based in Suva,
		// Fiji. It covers 16 countries (… Nauru, … Niue …)".
		"icrc-pacific": {Title: "ICRC, The ICRC regional delegation in the Pacific", Date: "2012-01-10",
			URL: "https://www.icrc.org/eng/where-we-work/asia-pacific/fiji/overview-suva.htm"},
		// "In 1998, the ICRC opened its delegation in Eritrea …"; figures
		// for 2013, the newest this project has read.
		"icrc-eritrea": {Title: "ICRC, The ICRC in Eritrea (figures for 2013)",
			URL: "http://www.icrc.org/eng/where-we-work/africa/eritrea/index.jsp"},
		// The article among the project's sources (its address is not in
		// the copy): the ICRC and the Red Cross Society of Panama give
		// migrants in Darién phone calls, written messages and internet.
		"icrc-panama-2023": {Title: "ICRC, Panama: Calls and messages that relieve (article)", Date: "2023-05-10"},
		// The ICRC's Spanish article of the same week: at Peñitas, Darién,
		// the Panamanian Red Cross offers RFL services so that migrants can
		// call their families.
		"icrc-panama-es-2023": {Title: "CICR, Panamá: llamadas que traen alivio y risas a los migrantes en el Darién y sus familias",
			URL: "https://www.icrc.org/es/document/panama-llamadas-que-traen-alivio-y-risas-los-migrantes-en-el-darien-y-sus-familias"},
	}
}

// uninhabited places IFRC GO lists are left out: no one lives there to ask.
var uninhabited = map[string]string{
	"aq": "Antarctica: no permanent population",
	"bv": "uninhabited",
	"hm": "uninhabited",
	"gs": "no permanent population",
	"um": "no permanent population",
	"io": "no permanent civilian population",
}

// geography places the territories the Secretariat's list leaves out in
// the region where they lie, for the country index only.
var geography = map[string]content.Region{
	"ai": content.Americas, "bm": content.Americas, "vg": content.Americas, "ky": content.Americas,
	"fk": content.Americas, "ms": content.Americas, "tc": content.Americas, "vi": content.Americas,
	"gi": content.Europe, "fo": content.Europe, "gl": content.Europe, "gg": content.Europe,
	"im": content.Europe, "je": content.Europe,
	"sh": content.Africa,
	"pn": content.AsiaPacific, "as": content.AsiaPacific, "cx": content.AsiaPacific, "cc": content.AsiaPacific,
	"gu": content.AsiaPacific, "nf": content.AsiaPacific, "mp": content.AsiaPacific, "tk": content.AsiaPacific,
	"mo": content.AsiaPacific,
}

// decide applies what the records alone cannot say. Each decision is in
// content/SOURCES.md.
func decide(c *content.Country) {
	switch c.ISO2 {
	case "xk":
		// IFRC GO lists the Red Cross of Serbia for Kosovo. Kosovo's status
		// is disputed, and a person there may fear a Society of one side:
		// the site sends them to the ICRC, the neutral intermediary, and
		// names no Society.
		if c.CoveredBy == nil || c.CoveredBy.Society != "rs" {
			log.Fatalf("xk: IFRC GO no longer names the Red Cross of Serbia; review this decision")
		}
		c.CoveredBy = nil
	case "om":
		c.ICRCDelegation = &content.Delegation{Name: "ICRC in the Gulf Cooperation Council countries",
			URL: "https://www.icrc.org/en/where-we-work/gulf-cooperation-council-gcc-countries", Inbox: "icrc-gcc", Sources: []string{"icrc-gcc"}}
	case "nr", "nu":
		c.ICRCDelegation = &content.Delegation{Name: "ICRC regional delegation in the Pacific (Suva)",
			URL: "https://www.icrc.org/eng/where-we-work/asia-pacific/fiji/overview-suva.htm", Inbox: "icrc-suva", Sources: []string{"icrc-pacific"}}
	case "er":
		c.ICRCDelegation = &content.Delegation{Name: "ICRC delegation in Eritrea",
			URL: "http://www.icrc.org/eng/where-we-work/africa/eritrea/index.jsp", Inbox: "icrc-eritrea", Sources: []string{"icrc-eritrea"}}
	case "pa":
		// The model for sourced services: what the ICRC says the Society
		// offers, where, and to whom.
		c.Society.Services = []content.ServiceClaim{{Kinds: []content.Service{content.Calls, content.Messages},
			Scope: "ScopePanamaDarien", Sources: []string{"icrc-panama-2023", "icrc-panama-es-2023"}}}
	}
}
