package search

import (
	"context"
	"fmt"

	"github.com/meilisearch/meilisearch-go"
)

// Face is the public gallery document. It holds only what the gallery shows:
// never a name, a location, the publishing Society or the internal case
// reference.
type Face struct {
	Ref      string   `json:"ref"`       // public reference, e.g. TTF-7Q4K2; the primary key
	Gender   string   `json:"gender"`    // a code of vocab.Genders
	AgeGroup string   `json:"age_group"` // a code of vocab.AgeGroups
	Seeking  []string `json:"seeking"`   // codes of vocab.Relationships
	Origin   string   `json:"origin"`    // ISO 3166-1 alpha-2, lower case
	// OriginNames is the origin country's name in every site language, so that
	// a visitor finds it by typing the name in their own language.
	OriginNames []string `json:"origin_names"`
	// SeekingWords are the relationship words in every site language.
	SeekingWords []string `json:"seeking_words"`
	Languages    []string `json:"languages"`    // spoken languages, BCP 47
	PublishedAt  int64    `json:"published_at"` // unix seconds
}

// faceFields lists the Face JSON fields: the only attributes Meilisearch may
// return.
// hitFields are what a gallery card needs: not the long lists of names
// that exist only to be searched.
func hitFields() []string {
	return []string{"ref", "gender", "age_group", "seeking", "origin", "languages", "published_at"}
}

func faceFields() []string {
	return []string{
		"ref", "gender", "age_group", "seeking", "origin",
		"origin_names", "seeking_words", "languages", "published_at",
	}
}

// facetFields lists the attributes the gallery filters on and counts.
func facetFields() []string {
	return []string{"gender", "age_group", "origin", "seeking"}
}

// Settings limits.
const (
	// maxValuesPerFacet is above the number of countries and territories, so
	// that every origin gets its count (Meilisearch's default is 100).
	maxValuesPerFacet = 300
	// maxTotalHits lets pagination reach every entry of a 100k gallery
	// (Meilisearch's default is 1000).
	maxTotalHits = 200000
)

// FacesSettings returns the settings of the faces index. Every call builds a
// new value, so callers may modify it.
func FacesSettings() *meilisearch.Settings {
	return &meilisearch.Settings{
		// Meilisearch's default rules; "sort" after "attribute" keeps text
		// relevance first, and with no text the newest come first.
		RankingRules:         []string{"words", "typo", "proximity", "attribute", "sort", "exactness"},
		SearchableAttributes: []string{"ref", "origin_names", "seeking_words"},
		FilterableAttributes: facetFields(),
		// ref breaks ties between photos published in the same second, so
		// that their order does not depend on the order they were indexed.
		SortableAttributes: []string{"published_at", "ref"},
		// Names are short: word proximity inside them tells nothing, and
		// computing it only per attribute makes indexing much faster.
		ProximityPrecision:  meilisearch.ByAttribute,
		DisplayedAttributes: faceFields(),
		// The full struct: a partial one switches typo tolerance off.
		TypoTolerance: &meilisearch.TypoTolerance{
			Enabled: true,
			MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{
				OneTypo:  4,
				TwoTypos: 8,
			},
			DisableOnWords: []string{},
			// A reference differs from another by one character: a typo
			// there would show the wrong person.
			DisableOnAttributes: []string{"ref"},
			DisableOnNumbers:    false,
		},
		Faceting: &meilisearch.Faceting{
			MaxValuesPerFacet: maxValuesPerFacet,
			SortFacetValuesBy: map[string]meilisearch.SortFacetType{"*": meilisearch.SortFacetTypeAlpha},
		},
		Pagination: &meilisearch.Pagination{MaxTotalHits: maxTotalHits},
	}
}

// FacesIndex returns the name of the faces index.
func (c *Client) FacesIndex() string { return c.prefix + "faces" }

func (c *Client) faces() meilisearch.IndexManager { return c.ms.Index(c.FacesIndex()) }

// EnsureFaces creates the faces index if it is missing and applies
// FacesSettings. Running it again changes nothing: documents stay.
func (c *Client) EnsureFaces(ctx context.Context) error {
	return c.ensureFacesIndex(ctx, c.FacesIndex())
}

// ensureFacesIndex creates the named index if missing and applies the faces
// settings to it.
func (c *Client) ensureFacesIndex(ctx context.Context, name string) error {
	cctx, cancel := c.call(ctx)
	idx, err := c.ms.GetIndexWithContext(cctx, name)
	cancel()
	switch {
	case err == nil:
		if idx.PrimaryKey != "" && idx.PrimaryKey != "ref" {
			return fmt.Errorf("search: ensure faces: index %s has primary key %q, want \"ref\"", name, idx.PrimaryKey)
		}
	case apiErrorCode(err) == "index_not_found":
		cctx, cancel := c.call(ctx)
		info, err := c.ms.CreateIndexWithContext(cctx, &meilisearch.IndexConfig{Uid: name, PrimaryKey: "ref"})
		cancel()
		if err != nil {
			return fmt.Errorf("search: ensure faces: create %s: %w", name, err)
		}
		// Another replica may have created it in the meantime: that is fine.
		if err := c.Wait(ctx, info.TaskUID); err != nil && apiErrorCode(err) != "index_already_exists" {
			return fmt.Errorf("search: ensure faces: create %s: %w", name, err)
		}
	default:
		return fmt.Errorf("search: ensure faces: get %s: %w", name, err)
	}

	cctx, cancel = c.call(ctx)
	info, err := c.ms.Index(name).UpdateSettingsWithContext(cctx, FacesSettings())
	cancel()
	if err != nil {
		return fmt.Errorf("search: ensure faces: settings: %w", err)
	}
	if err := c.Wait(ctx, info.TaskUID); err != nil {
		return fmt.Errorf("search: ensure faces: settings: %w", err)
	}
	// The site never searches inside facet values: not building that
	// structure saves indexing time. (Settings cannot carry a false here:
	// the library omits it.)
	cctx, cancel = c.call(ctx)
	info, err = c.ms.Index(name).UpdateFacetSearchWithContext(cctx, false)
	cancel()
	if err != nil {
		return fmt.Errorf("search: ensure faces: facet search: %w", err)
	}
	if err := c.Wait(ctx, info.TaskUID); err != nil {
		return fmt.Errorf("search: ensure faces: facet search: %w", err)
	}
	return nil
}

// UpsertFaces adds docs to the index, replacing any with the same Ref, and
// waits until Meilisearch has applied them. A batch that fails is applied not
// at all.
func (c *Client) UpsertFaces(ctx context.Context, docs []Face) error {
	if len(docs) == 0 {
		return nil
	}
	pk := "ref"
	cctx, cancel := c.call(ctx)
	info, err := c.faces().AddDocumentsWithContext(cctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
	cancel()
	if err != nil {
		return fmt.Errorf("search: upsert faces: %w", err)
	}
	if err := c.Wait(ctx, info.TaskUID); err != nil {
		return fmt.Errorf("search: upsert faces: %w", err)
	}
	return nil
}

// DeleteFaces removes the documents with the given refs, and waits until
// Meilisearch has applied it. Unknown refs are not an error.
func (c *Client) DeleteFaces(ctx context.Context, refs []string) error {
	if len(refs) == 0 {
		return nil
	}
	cctx, cancel := c.call(ctx)
	info, err := c.faces().DeleteDocumentsWithContext(cctx, refs, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("search: delete faces: %w", err)
	}
	if err := c.Wait(ctx, info.TaskUID); err != nil {
		return fmt.Errorf("search: delete faces: %w", err)
	}
	return nil
}
