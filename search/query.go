package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/familylinks/familylinks/content/vocab"
	"github.com/meilisearch/meilisearch-go"
)

// Page sizes for SearchFaces.
const (
	DefaultPerPage = 24
	MaxPerPage     = 60
)

// maxTextRunes bounds the search text; Meilisearch reads at most ten words.
const maxTextRunes = 200

var originPattern = regexp.MustCompile(`^[a-z]{2}$`)

// ErrBadQuery is matched (errors.Is) by every error SearchFaces returns for a
// query it refuses to send: the caller answers 400, not 500.
var ErrBadQuery = errors.New("search: bad query")

// QueryError names the FaceQuery field that was refused. It unwraps to
// ErrBadQuery. It does not echo the value, which came from a visitor.
type QueryError struct {
	Field string
}

func (e *QueryError) Error() string { return "search: bad query: invalid " + e.Field }

// Unwrap makes errors.Is(err, ErrBadQuery) true.
func (e *QueryError) Unwrap() error { return ErrBadQuery }

// FaceQuery is one gallery search as the visitor asked for it. Empty fields
// do not filter.
type FaceQuery struct {
	Text     string // free text: origin names, relationship words, a reference
	Gender   string // a code of vocab.Genders
	AgeGroup string // a code of vocab.AgeGroups
	Origin   string // ISO 3166-1 alpha-2, lower case
	Seeking  string // a code of vocab.Relationships
	Page     int    // 1-based; 0 means 1
	PerPage  int    // 0 means DefaultPerPage; above MaxPerPage means MaxPerPage
}

// FaceResult is one page of gallery results.
type FaceResult struct {
	Hits       []Face
	Total      int64 // entries matching the query, over all pages
	Page       int64
	TotalPages int64
	// Facets counts the matching entries per value: field → value → count,
	// for gender, age_group, origin and seeking. Every field is present.
	Facets map[string]map[string]int64
}

// SearchFaces runs one gallery search, newest first. A field that is not one
// of the known values gives an error matching ErrBadQuery, and nothing is sent.
func (c *Client) SearchFaces(ctx context.Context, q FaceQuery) (*FaceResult, error) {
	req, err := faceRequest(q)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.call(ctx)
	defer cancel()
	// The raw answer is decoded once, straight into Faces: the client's own
	// decoding goes through a map per hit and then a second pass, which
	// cost more than the rest of this function (bench-gallery's profile).
	searcher := c.searcher.Load()
	if searcher == nil {
		return nil, ErrNoSearchKey
	}
	raw, err := (*searcher).Index(c.FacesIndex()).SearchRawWithContext(ctx, req.Query, req)
	if err != nil {
		return nil, fmt.Errorf("search: search faces: %w", err)
	}
	var res struct {
		Hits              []Face                      `json:"hits"`
		TotalHits         int64                       `json:"totalHits"`
		Page              int64                       `json:"page"`
		TotalPages        int64                       `json:"totalPages"`
		FacetDistribution map[string]map[string]int64 `json:"facetDistribution"`
	}
	if raw == nil {
		return nil, errors.New("search: search faces: empty answer")
	}
	if err := json.Unmarshal(*raw, &res); err != nil {
		return nil, fmt.Errorf("search: search faces: decode: %w", err)
	}
	out := &FaceResult{
		Hits:       res.Hits,
		Total:      res.TotalHits,
		Page:       res.Page,
		TotalPages: res.TotalPages,
		Facets:     res.FacetDistribution,
	}
	if out.Hits == nil {
		out.Hits = []Face{}
	}
	if out.Facets == nil {
		out.Facets = make(map[string]map[string]int64)
	}
	for _, f := range facetFields() {
		if out.Facets[f] == nil {
			out.Facets[f] = map[string]int64{}
		}
	}
	return out, nil
}

// faceRequest validates q and builds a new request for it (Search mutates its
// request, so none is ever shared). Filters hold only known attributes and
// known values; the visitor's text goes nowhere but the query string.
func faceRequest(q FaceQuery) (*meilisearch.SearchRequest, error) {
	text := strings.TrimSpace(q.Text)
	if !utf8.ValidString(text) || utf8.RuneCountInString(text) > maxTextRunes {
		return nil, &QueryError{Field: "text"}
	}

	var filter []string
	add := func(attr, value string, ok bool) error {
		if value == "" {
			return nil
		}
		if !ok {
			return &QueryError{Field: attr}
		}
		filter = append(filter, attr+" = "+strconv.Quote(value))
		return nil
	}
	if err := add("gender", q.Gender, vocab.Genders.Has(q.Gender)); err != nil {
		return nil, err
	}
	if err := add("age_group", q.AgeGroup, vocab.AgeGroups.Has(q.AgeGroup)); err != nil {
		return nil, err
	}
	if err := add("origin", q.Origin, originPattern.MatchString(q.Origin)); err != nil {
		return nil, err
	}
	if err := add("seeking", q.Seeking, vocab.Relationships.Has(q.Seeking)); err != nil {
		return nil, err
	}

	perPage := q.PerPage
	switch {
	case perPage < 0:
		return nil, &QueryError{Field: "per_page"}
	case perPage == 0:
		perPage = DefaultPerPage
	case perPage > MaxPerPage:
		perPage = MaxPerPage
	}
	page := q.Page
	switch {
	case page < 0:
		return nil, &QueryError{Field: "page"}
	case page == 0:
		page = 1
	}
	// Past maxTotalHits Meilisearch returns nothing; refusing here also keeps
	// the arithmetic far from overflow.
	if page > maxTotalHits || (page-1)*perPage >= maxTotalHits {
		return nil, &QueryError{Field: "page"}
	}

	hitsPerPage := int64(perPage)
	req := &meilisearch.SearchRequest{
		Query:       text,
		HitsPerPage: &hitsPerPage,
		Page:        int64(page),
		Facets:      facetFields(),
		Sort:        []string{"published_at:desc", "ref:asc"},
		// Every word must match, so that the count means what it says.
		MatchingStrategy:     meilisearch.All,
		AttributesToRetrieve: hitFields(),
	}
	if len(filter) > 0 {
		// An array of strings: all of them must hold.
		req.Filter = filter
	}
	return req, nil
}
