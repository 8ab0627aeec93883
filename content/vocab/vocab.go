// Package vocab owns the fixed vocabularies the site shares between the
// contact form, the gallery, the search index and the back office: the
// codes stored and indexed, in display order, and the message ID that
// names each in every language. Nothing else lists a code or builds a
// message ID from one.
package vocab

// Term is one code and the message that names it.
type Term struct {
	Code    string
	Message string
}

// List is a vocabulary in display order.
type List []Term

// Codes returns the codes in order.
func (l List) Codes() []string {
	out := make([]string, len(l))
	for i, t := range l {
		out[i] = t.Code
	}
	return out
}

// Has reports whether code belongs to the vocabulary.
func (l List) Has(code string) bool {
	_, ok := l.Message(code)
	return ok
}

// Message returns the message ID of code.
func (l List) Message(code string) (string, bool) {
	for _, t := range l {
		if t.Code == code {
			return t.Message, true
		}
	}
	return "", false
}

// Genders of a person in the gallery.
var Genders = List{{"female", "GenderFemale"}, {"male", "GenderMale"}, {"other", "GenderOther"}}

// AgeGroups of a person in the gallery. Seekers are 15 or older.
var AgeGroups = List{{"15-17", "Age15to17"}, {"18-29", "Age18to29"}, {"30-44", "Age30to44"}, {"45-59", "Age45to59"}, {"60+", "Age60plus"}}

// Relationships: who is sought, in the contact form and the gallery.
var Relationships = List{
	{"mother", "RelMother"}, {"father", "RelFather"}, {"son", "RelSon"}, {"daughter", "RelDaughter"},
	{"brother", "RelBrother"}, {"sister", "RelSister"}, {"husband", "RelHusband"}, {"wife", "RelWife"},
	{"grandparent", "RelGrandparent"}, {"grandchild", "RelGrandchild"}, {"uncle-aunt", "RelUncleAunt"},
	{"nephew-niece", "RelNephewNiece"}, {"cousin", "RelCousin"}, {"other", "RelOther"},
}

// Circumstances that may have separated a family.
var Circumstances = List{
	{"conflict", "CircConflict"}, {"disaster", "CircDisaster"}, {"migration", "CircMigration"},
	{"detention", "CircDetention"}, {"other", "CircOther"},
}

// Services of the Family Links Network: the message names the service;
// ServiceText describes it.
var Services = List{
	{"tracing", "ServiceTracingName"}, {"messages", "ServiceMessagesName"}, {"calls", "ServiceCallsName"},
	{"reunification", "ServiceReunificationName"}, {"trace-the-face", "ServiceTraceTheFaceName"},
	{"missing-families", "ServiceMissingFamiliesName"}, {"detention", "ServiceDetentionName"}, {"dead", "ServiceDeadName"},
}

// ServiceText is the message ID describing a service.
func ServiceText(code string) string {
	m, _ := Services.Message(code)
	if len(m) > len("Name") {
		return m[:len(m)-len("Name")] + "Text"
	}
	return ""
}

// All lists every vocabulary by name, for the check that ties each code
// to a message in every language.
func All() map[string]List {
	return map[string]List{"genders": Genders, "age groups": AgeGroups, "relationships": Relationships,
		"circumstances": Circumstances, "services": Services}
}
