package vocab_test

import (
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/locales"
)

// TestEveryCodeHasItsWords ties every code of every vocabulary to a
// message, and a service to its description, in every language.
func TestEveryCodeHasItsWords(t *testing.T) {
	cat, err := locales.Load(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for name, l := range vocab.All() {
		seen := map[string]bool{}
		for _, term := range l {
			if term.Code == "" || term.Message == "" || seen[term.Code] {
				t.Errorf("%s: bad or repeated term %+v", name, term)
			}
			seen[term.Code] = true
			ids = append(ids, term.Message)
		}
	}
	for _, code := range vocab.Services.Codes() {
		ids = append(ids, vocab.ServiceText(code))
	}
	if err := cat.Require(ids); err != nil {
		t.Error(err)
	}
}

// TestServicesMatchTheData: the services the country data may claim are
// the vocabulary's, in the same order.
func TestServicesMatchTheData(t *testing.T) {
	var codes []string
	for _, s := range content.Services() {
		codes = append(codes, string(s))
	}
	if !slices.Equal(codes, vocab.Services.Codes()) {
		t.Errorf("content.Services %v, vocab.Services %v", codes, vocab.Services.Codes())
	}
}
