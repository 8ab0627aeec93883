package web

import (
	"strings"

	"github.com/familylinks/familylinks/content"
)

// ServiceText is a family-links service as a page shows it.
type ServiceText struct {
	Kind content.Service
	Name string
	Text string
}

// ServiceTexts localizes services; their messages are Service{Kind}Name and
// Service{Kind}Text, with the kind in CamelCase (trace-the-face →
// ServiceTraceTheFaceName).
func (b Base) ServiceTexts(kinds []content.Service) []ServiceText {
	out := make([]ServiceText, len(kinds))
	for i, k := range kinds {
		id := "Service" + camel(string(k))
		out[i] = ServiceText{Kind: k, Name: b.T(id + "Name"), Text: b.T(id + "Text")}
	}
	return out
}

func camel(s string) string {
	parts := strings.Split(s, "-")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
