// Package gallery is Trace the Face for the public: the search index of
// published entries kept in step with PostgreSQL through the outbox (this
// file), the gallery and photo pages and the media they serve (public.go),
// and the demo entries of make run (demo.go). Staff record and publish
// entries in the back office (site/staff).
package gallery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/familylinks/familylinks/content/vocab"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site/store"
)

// Indexer derives the search index from PostgreSQL, the source of truth.
type Indexer struct {
	Store   *store.Store
	Search  *search.Client
	Catalog *locales.Catalog
}

// Face is the search document of a published entry: public fields only,
// with the origin's name and the relationship words in every site language
// so that a search in any of them finds it.
func (x *Indexer) Face(e store.PublicEntry) search.Face {
	f := search.Face{
		Ref: e.Ref, Gender: e.Gender, AgeGroup: e.AgeGroup, Seeking: e.Seeking, Origin: e.Origin,
		Languages: e.Languages, PublishedAt: e.PublishedAt.Unix(),
	}
	seen := map[string]bool{}
	add := func(list *[]string, s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			*list = append(*list, s)
		}
	}
	for _, l := range x.Catalog.Languages() {
		tr := x.Catalog.Translator(l.Code)
		add(&f.OriginNames, tr.Country(e.Origin))
		for _, r := range e.Seeking {
			m, _ := vocab.Relationships.Message(r)
			add(&f.SeekingWords, tr.T(m))
		}
	}
	if f.Languages == nil {
		f.Languages = []string{}
	}
	return f
}

// Handlers are the outbox handlers that apply publications and
// withdrawals to the index.
func (x *Indexer) Handlers() map[string]store.OutboxHandler {
	return map[string]store.OutboxHandler{
		store.TopicGalleryIndex:  x.index,
		store.TopicGalleryRemove: x.remove,
	}
}

func notice(m store.OutboxMessage) (string, error) {
	var n store.GalleryNotice
	if err := json.Unmarshal(m.Payload, &n); err != nil {
		return "", fmt.Errorf("gallery: notice: %w", err)
	}
	return n.Ref, nil
}

func (x *Indexer) index(ctx context.Context, m store.OutboxMessage) error {
	ref, err := notice(m)
	if err != nil {
		return err
	}
	e, err := x.Store.PublicEntryByRef(ctx, ref)
	if errors.Is(err, store.ErrWithdrawn) || errors.Is(err, store.ErrNotFound) {
		// Withdrawn before the index caught up: make sure it is absent.
		return x.Search.DeleteFaces(ctx, []string{ref})
	}
	if err != nil {
		return err
	}
	return x.Search.UpsertFaces(ctx, []search.Face{x.Face(e)})
}

func (x *Indexer) remove(ctx context.Context, m store.OutboxMessage) error {
	ref, err := notice(m)
	if err != nil {
		return err
	}
	return x.Search.DeleteFaces(ctx, []string{ref})
}

// Reindex rebuilds the index from PostgreSQL with no downtime and returns
// how many entries it holds.
func (x *Indexer) Reindex(ctx context.Context) (int, error) {
	n := 0
	err := x.Search.Reindex(ctx, func(add func([]search.Face) error) error {
		return x.Store.EachPublished(ctx, func(page []store.PublicEntry) error {
			docs := make([]search.Face, len(page))
			for i, e := range page {
				docs[i] = x.Face(e)
			}
			n += len(docs)
			return add(docs)
		})
	})
	return n, err
}

// Difference is what check-index reports.
type Difference struct {
	Published int      // entries published in PostgreSQL
	Indexed   int      // documents in the index
	Missing   []string // published but not indexed
	Extra     []string // indexed but not published: these must never be shown
}

// Check compares the index with PostgreSQL.
func (x *Indexer) Check(ctx context.Context) (Difference, error) {
	pub := map[string]bool{}
	if err := x.Store.EachPublished(ctx, func(page []store.PublicEntry) error {
		for _, e := range page {
			pub[e.Ref] = true
		}
		return nil
	}); err != nil {
		return Difference{}, err
	}
	refs, err := x.Search.Refs(ctx)
	if err != nil {
		return Difference{}, err
	}
	d := Difference{Published: len(pub), Indexed: len(refs)}
	in := map[string]bool{}
	for _, r := range refs {
		in[r] = true
		if !pub[r] {
			d.Extra = append(d.Extra, r)
		}
	}
	for r := range pub {
		if !in[r] {
			d.Missing = append(d.Missing, r)
		}
	}
	sort.Strings(d.Missing)
	sort.Strings(d.Extra)
	return d, nil
}
