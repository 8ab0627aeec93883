package cards

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"

	"github.com/familylinks/familylinks/site/store"
)

// policy is the small allowlist of a card's note: paragraphs, lists,
// emphasis and links (web, mail and phone) that open with
// rel="noopener noreferrer". No images, scripts, styles, classes or ids.
var policy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "ul", "ol", "li", "em", "strong")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("https", "http", "mailto", "tel")
	p.RequireParseableURLs(true)
	p.RequireNoReferrerOnLinks(true)
	p.RequireNoFollowOnLinks(false)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return p
}()

// markdown renders without the raw HTML goldmark would pass through: the
// note is Markdown only, and bluemonday removes anything else anyway.
var markdown = goldmark.New()

// RenderNote turns a note's Markdown into the HTML the public page shows,
// sanitised by the allowlist. It runs when a card is published; the
// Markdown is what is stored and edited.
func RenderNote(md string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(md), &buf); err != nil {
		return "", err
	}
	clean := policy.SanitizeBytes(buf.Bytes())
	// bluemonday adds rel="nofollow noreferrer"; noopener too, always.
	clean = bytes.ReplaceAll(clean, []byte(`rel="noreferrer"`), []byte(`rel="noopener noreferrer"`))
	return template.HTML(bytes.TrimSpace(clean)), nil // #nosec: sanitised above
}

// Publish publishes a stored draft as by: its notes are rendered and
// sanitised now, and the store checks that by did not save it.
func Publish(ctx context.Context, st *store.Store, v store.CardVersion, by store.CardActor) (store.CardVersion, error) {
	var card Card
	if err := json.Unmarshal(v.Card, &card); err != nil {
		return store.CardVersion{}, fmt.Errorf("cards: version %d: %w", v.ID, err)
	}
	notes := map[string]string{}
	for lang, md := range card.Notes {
		html, err := RenderNote(md)
		if err != nil {
			return store.CardVersion{}, err
		}
		notes[lang] = string(html)
	}
	return st.PublishCard(ctx, v.ID, notes, by)
}
