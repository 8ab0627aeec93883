package search

import (
	"context"
	"fmt"

	"github.com/meilisearch/meilisearch-go"
)

// Reindex rebuilds the faces index with no downtime: fill adds every
// document to a fresh index, which then swaps places with the live one;
// searches answer from the old index until the swap. The old index is
// deleted afterwards.
func (c *Client) Reindex(ctx context.Context, fill func(add func([]Face) error) error) error {
	live, fresh := c.FacesIndex(), c.FacesIndex()+"_new"
	// A leftover from an interrupted run is discarded.
	if err := c.deleteIndex(ctx, fresh); err != nil {
		return err
	}
	if err := c.ensureFacesIndex(ctx, fresh); err != nil {
		return fmt.Errorf("search: reindex: %w", err)
	}
	// Batches are queued without waiting one by one: Meilisearch applies
	// them in order, and every task is checked before the swap.
	var tasks []int64
	pk := "ref"
	add := func(docs []Face) error {
		if len(docs) == 0 {
			return nil
		}
		cctx, cancel := c.call(ctx)
		defer cancel()
		info, err := c.ms.Index(fresh).AddDocumentsWithContext(cctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err != nil {
			return fmt.Errorf("search: reindex: add: %w", err)
		}
		tasks = append(tasks, info.TaskUID)
		return nil
	}
	if err := fill(add); err != nil {
		return err
	}
	for _, t := range tasks {
		if err := c.Wait(ctx, t); err != nil {
			return fmt.Errorf("search: reindex: %w", err)
		}
	}
	if err := c.EnsureFaces(ctx); err != nil {
		return fmt.Errorf("search: reindex: %w", err)
	}
	cctx, cancel := c.call(ctx)
	info, err := c.ms.SwapIndexesWithContext(cctx, []*meilisearch.SwapIndexesParams{{Indexes: []string{live, fresh}}})
	cancel()
	if err != nil {
		return fmt.Errorf("search: reindex: swap: %w", err)
	}
	if err := c.Wait(ctx, info.TaskUID); err != nil {
		return fmt.Errorf("search: reindex: swap: %w", err)
	}
	return c.deleteIndex(ctx, fresh)
}

func (c *Client) deleteIndex(ctx context.Context, name string) error {
	cctx, cancel := c.call(ctx)
	info, err := c.ms.DeleteIndexWithContext(cctx, name)
	cancel()
	if apiErrorCode(err) == "index_not_found" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("search: delete %s: %w", name, err)
	}
	if err := c.Wait(ctx, info.TaskUID); err != nil && apiErrorCode(err) != "index_not_found" {
		return fmt.Errorf("search: delete %s: %w", name, err)
	}
	return nil
}

// Refs returns the reference of every document in the faces index, for
// comparing the index with PostgreSQL.
func (c *Client) Refs(ctx context.Context) ([]string, error) {
	var out []string
	for offset := int64(0); ; {
		var res meilisearch.DocumentsResult
		cctx, cancel := c.call(ctx)
		err := c.faces().GetDocumentsWithContext(cctx, &meilisearch.DocumentsQuery{Offset: offset, Limit: 10000, Fields: []string{"ref"}}, &res)
		cancel()
		if apiErrorCode(err) == "index_not_found" {
			return out, nil // no index yet: it holds nothing
		}
		if err != nil {
			return nil, fmt.Errorf("search: refs: %w", err)
		}
		var page []struct {
			Ref string `json:"ref"`
		}
		if err := res.Results.DecodeInto(&page); err != nil {
			return nil, fmt.Errorf("search: refs: %w", err)
		}
		for _, d := range page {
			out = append(out, d.Ref)
		}
		offset += int64(len(page))
		if len(page) == 0 || offset >= res.Total {
			return out, nil
		}
	}
}
