package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/gallery"
	"github.com/familylinks/familylinks/site/store"
)

// keygenCmd prints a new keyring entry.
func keygenCmd(args []string, w io.Writer) error {
	id := "k" + time.Now().UTC().Format("20060102")
	if len(args) > 0 && args[0] == "--csrf" {
		fmt.Fprintln(w, newCSRFKey())
		return nil
	}
	if len(args) > 0 {
		id = args[0]
	}
	fmt.Fprintln(w, crypt.NewKey(id))
	return nil
}

// routesCmd prints where an enquiry from each country goes, and why.
func routesCmd(w io.Writer) error {
	data, err := content.Load()
	if err != nil {
		return err
	}
	active := func(string) bool { return true }
	note := "no DATABASE_URL: every Society inbox is assumed active"
	cfg, err := mustConfig()
	if err != nil {
		return err
	}
	if dsn := cfg.DatabaseURL; dsn != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := store.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer st.Close()
		set, err := st.ActiveInboxes(ctx)
		if err != nil {
			return err
		}
		active = func(code string) bool { return set[code] }
		note = fmt.Sprintf("%d Society inboxes active (an enabled caseworker, not switched off)", len(set))
	}
	fmt.Fprintln(w, "# "+note)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COUNTRY\tNAME\tDESTINATION\tINBOX\tREASON")
	for _, c := range data.Countries {
		d, err := data.Route(c.ISO2, active)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ISO2, c.NameEN, data.InboxName(d.Inbox), d.Inbox, d.Explanation)
	}
	return tw.Flush()
}

// rekeyCmd re-encrypts every sealed value under the current key.
func rekeyCmd(w io.Writer) error {
	cfg, err := mustConfig()
	if err != nil {
		return err
	}
	keys, err := keyring(cfg)
	if err != nil {
		return err
	}
	return withStore("rekey", func(ctx context.Context, st *store.Store) error {
		n, err := st.Rekey(ctx, keys.Current(), func(v store.SealedValue) (string, []byte, error) {
			b, ok := crypt.BindingOf(v.Table, v.Reference)
			if !ok {
				return "", nil, fmt.Errorf("rekey: no binding for table %q", v.Table)
			}
			plain, err := keys.OpenAt(v.KeyID, v.Sealed, b)
			if err != nil {
				return "", nil, err
			}
			kid, sealed := keys.SealAt(plain, b)
			return kid, sealed, nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "rekey: %d values now sealed under %s; older keys can be removed from %s\n", n, keys.Current(), crypt.EnvVar)
		return nil
	})
}

// purgeCmd deletes the personal data of enquiries closed longer ago than
// the retention period.
func purgeCmd(w io.Writer) error {
	cfg, err := mustConfig()
	if err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	days := cfg.RetentionDays
	return withStore("purge", func(ctx context.Context, st *store.Store) error {
		cutoff := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
		n, err := st.PurgeClosed(ctx, cutoff)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "purge: personal data removed from %d enquiries closed before %s (retention %d days)\n", n, cutoff.UTC().Format(time.DateOnly), days)
		expired, err := st.ExpireGalleryReviews(ctx, time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "purge: %d gallery entries withdrawn because their consent review date passed\n", expired)
		return nil
	})
}

// indexCmd rebuilds the gallery index (reindex) or compares it with
// PostgreSQL (check-index, non-zero when they differ).
func indexCmd(checkOnly bool, w io.Writer, log *slog.Logger) error {
	cfg, err := mustConfig()
	if err != nil {
		return err
	}
	dsn, mu := cfg.DatabaseURL, cfg.MeiliURL
	if dsn == "" || mu == "" {
		return errors.New("DATABASE_URL and MEILI_URL must both be set")
	}
	ctx := context.Background()
	st, err := openStore(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	sc, err := searchClient(cfg)
	if err != nil {
		return err
	}
	cat, err := locales.Load(log)
	if err != nil {
		return err
	}
	x := &gallery.Indexer{Store: st, Search: sc, Catalog: cat}
	if !checkOnly {
		start := time.Now()
		n, err := x.Reindex(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "reindex: %d published entries indexed into a fresh index and swapped in, in %s\n", n, time.Since(start).Round(time.Millisecond))
		return nil
	}
	d, err := x.Check(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "check-index: %d published in PostgreSQL, %d in the index\n", d.Published, d.Indexed)
	for _, r := range d.Missing {
		fmt.Fprintf(w, "  missing from the index: %s\n", r)
	}
	for _, r := range d.Extra {
		fmt.Fprintf(w, "  in the index but not published (never shown: the site checks PostgreSQL): %s\n", r)
	}
	if len(d.Missing)+len(d.Extra) > 0 {
		return fmt.Errorf("check-index: %d differences; run familylinks reindex", len(d.Missing)+len(d.Extra))
	}
	fmt.Fprintln(w, "check-index: the index matches PostgreSQL")
	return nil
}

// seedDemoCmd publishes demo entries; the index follows through the outbox
// of a running site.
func seedDemoCmd(args []string, w io.Writer) error {
	n := 24
	if len(args) > 0 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v < 1 || v > 1000 {
			return fmt.Errorf("seed-demo: %q is not a number from 1 to 1000", args[0])
		}
		n = v
	}
	cfg, err := mustConfig()
	if err != nil {
		return err
	}
	keys, err := keyring(cfg)
	if err != nil {
		return err
	}
	return withStore("seed-demo", func(ctx context.Context, st *store.Store) error {
		made, err := gallery.SeedDemo(ctx, st, keys, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "seed-demo: %d demo entries published; a running site indexes them through its outbox\n", made)
		return nil
	})
}
