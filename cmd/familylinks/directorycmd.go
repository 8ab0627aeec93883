package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/familylinks/familylinks/site/cards"
	"github.com/familylinks/familylinks/site/directory"
	"github.com/familylinks/familylinks/site/store"
)

// directoryCmd is `familylinks directory export [FILE]` (the open
// directory, as /api/v1/directory.json serves it), `familylinks directory
// import --as EMAIL FILE` (cards from such a file, saved as drafts that a
// second person publishes) and `familylinks directory publish --as EMAIL`
// (that second person, for every open draft they did not save).
func directoryCmd(args []string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return errors.New("directory: say export or import")
	}
	switch args[0] {
	case "export":
		out := "-"
		if len(args) > 1 {
			out = args[1]
		}
		return withStore("directory export", func(ctx context.Context, st *store.Store) error {
			return exportDirectory(ctx, st, out, stdout, log)
		})
	case "import":
		fs := flag.NewFlagSet("directory import", flag.ContinueOnError)
		as := fs.String("as", "", "the account the drafts are saved by: an administrator, or a page editor of every Society in the file")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *as == "" || fs.NArg() != 1 {
			return errors.New("directory import: usage: familylinks directory import --as EMAIL FILE")
		}
		b, err := os.ReadFile(fs.Arg(0))
		if err != nil {
			return err
		}
		return withStore("directory import", func(ctx context.Context, st *store.Store) error {
			return importDirectory(ctx, st, b, strings.ToLower(strings.TrimSpace(*as)), stdout, log)
		})
	case "publish":
		fs := flag.NewFlagSet("directory publish", flag.ContinueOnError)
		as := fs.String("as", "", "the second person: an administrator, or a page editor of the Societies whose drafts to publish")
		only := fs.String("society", "", "publish only this Society's draft")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *as == "" {
			return errors.New("directory publish: usage: familylinks directory publish --as EMAIL [--society XX]")
		}
		return withStore("directory publish", func(ctx context.Context, st *store.Store) error {
			return publishDrafts(ctx, st, strings.ToLower(strings.TrimSpace(*as)), strings.ToLower(*only), stdout)
		})
	}
	return fmt.Errorf("directory: unknown action %q", args[0])
}

// publishDrafts is the second person of a bulk import: it publishes every
// open draft (or one Society's) that the account may edit and did not save
// itself; the others are listed and left for someone else.
func publishDrafts(ctx context.Context, st *store.Store, as, only string, stdout io.Writer) error {
	who, err := st.StaffByEmail(ctx, as)
	if err != nil || who.DisabledAt != nil {
		return fmt.Errorf("directory publish: no enabled account %s", as)
	}
	drafts, err := st.OpenDrafts(ctx)
	if err != nil {
		return err
	}
	published, left := 0, 0
	for _, d := range drafts {
		switch {
		case only != "" && d.Society != only:
			continue
		case !who.CanEditCard(d.Society):
			fmt.Fprintf(stdout, "%s: left: %s may not edit this Society's card\n", d.Society, as)
			left++
			continue
		case d.SavedBy == who.ID:
			fmt.Fprintf(stdout, "%s: left: %s saved this draft; someone else publishes it\n", d.Society, as)
			left++
			continue
		}
		if _, err := cards.Publish(ctx, st, d, store.CardActor{StaffID: who.ID, Email: who.Email}); err != nil {
			return fmt.Errorf("directory publish %s: %w", d.Society, err)
		}
		published++
	}
	fmt.Fprintf(stdout, "%d drafts published by %s; %d left for someone else\n", published, as, left)
	return nil
}

func exportDirectory(ctx context.Context, st *store.Store, out string, stdout io.Writer, log *slog.Logger) error {
	data, cat, err := load(log)
	if err != nil {
		return err
	}
	versions, err := st.PublishedCards(ctx)
	if err != nil {
		return err
	}
	published := map[string]cards.Public{}
	for code, v := range versions {
		p, err := cards.FromVersion(v)
		if err != nil {
			return err
		}
		published[code] = p
	}
	b, err := json.MarshalIndent(directory.Build(data, published, cat.Translator("en")), "", " ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if out == "-" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d places, %d published cards\n", out, len(data.Countries), len(published))
	return nil
}

// importDirectory validates every card in the file first and saves none
// when one is wrong; then each card that differs from the one published
// becomes a draft of its Society, saved by the account as, which cannot
// publish it: a second person does, in the back office.
func importDirectory(ctx context.Context, st *store.Store, b []byte, as string, stdout io.Writer, log *slog.Logger) error {
	data, cat, err := load(log)
	if err != nil {
		return err
	}
	var doc directory.Document
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("directory import: %w", err)
	}
	who, err := st.StaffByEmail(ctx, as)
	if err != nil || who.DisabledAt != nil {
		return fmt.Errorf("directory import: no enabled account %s", as)
	}
	var langs []string
	for _, l := range cat.Languages() {
		langs = append(langs, l.Code)
	}
	type todo struct {
		society string
		card    []byte
	}
	var (
		work     []todo
		problems []string
	)
	for _, e := range doc.Countries {
		if e.Card == nil {
			continue
		}
		c, ok := data.Country(e.ISO2)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%q: not a place this site knows", e.ISO2))
			continue
		case !c.Society.Active():
			problems = append(problems, fmt.Sprintf("%s: has no active National Society to keep a card", e.ISO2))
			continue
		case !who.CanEditCard(e.ISO2):
			problems = append(problems, fmt.Sprintf("%s: %s may not edit this Society's card", e.ISO2, as))
			continue
		}
		card, errs := cards.Validate(e.Card.Card, e.ISO2, langs)
		if len(errs) > 0 {
			// The back office's English words for each problem.
			en := cat.Translator("en")
			fields := make([]string, 0, len(errs))
			for f, pr := range errs {
				fields = append(fields, f+": "+en.T(pr.ID, pr.Args...))
			}
			sort.Strings(fields)
			problems = append(problems, e.ISO2+": "+strings.Join(fields, "; "))
			continue
		}
		raw, err := json.Marshal(card)
		if err != nil {
			return err
		}
		work = append(work, todo{e.ISO2, raw})
	}
	if len(problems) > 0 {
		return fmt.Errorf("directory import: nothing saved; fix these first:\n  %s", strings.Join(problems, "\n  "))
	}
	published, err := st.PublishedCards(ctx)
	if err != nil {
		return err
	}
	saved, same := 0, 0
	for _, w := range work {
		if p, ok := published[w.society]; ok && sameJSON(p.Card, w.card) {
			same++
			continue
		}
		if _, err := st.SaveCardDraft(ctx, w.society, w.card, nil, store.CardActor{StaffID: who.ID, Email: who.Email}); err != nil {
			return err
		}
		saved++
	}
	fmt.Fprintf(stdout, "%d drafts saved by %s, each waiting for a second person of its Society (or an administrator) to publish it; %d cards unchanged\n", saved, as, same)
	return nil
}

// sameJSON reports whether two JSON documents hold the same value.
func sameJSON(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}
