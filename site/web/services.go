package web

import "github.com/familylinks/familylinks/content/vocab"

// ServiceText is a family-links service as a page shows it.
type ServiceText struct {
	Kind string
	Name string
	Text string
}

// ServiceTexts localizes services by their codes (vocab.Services).
func (b Base) ServiceTexts(codes []string) []ServiceText {
	out := make([]ServiceText, 0, len(codes))
	for _, k := range codes {
		name, ok := vocab.Services.Message(k)
		if !ok {
			continue
		}
		out = append(out, ServiceText{Kind: k, Name: b.T(name), Text: b.T(vocab.ServiceText(k))})
	}
	return out
}
