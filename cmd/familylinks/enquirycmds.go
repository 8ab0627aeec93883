package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/store"
)

// keygenCmd prints a new keyring entry.
func keygenCmd(args []string, w io.Writer) error {
	id := "k" + time.Now().UTC().Format("20060102")
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
	if dsn := os.Getenv("DATABASE_URL"); dsn != "" {
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
	keys, err := keyring()
	if err != nil {
		return err
	}
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("rekey: DATABASE_URL is not set")
	}
	ctx := context.Background()
	st, err := openStore(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Rekey(ctx, keys.Current(), func(v store.SealedValue) (string, []byte, error) {
		plain, err := keys.Open(v.KeyID, v.Sealed, []byte(v.Reference))
		if err != nil {
			return "", nil, err
		}
		kid, sealed := keys.Seal(plain, []byte(v.Reference))
		return kid, sealed, nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "rekey: %d values now sealed under %s; older keys can be removed from %s\n", n, keys.Current(), crypt.EnvVar)
	return nil
}

// purgeCmd deletes the personal data of enquiries closed longer ago than
// the retention period.
func purgeCmd(w io.Writer) error {
	days := 365
	if v := os.Getenv("FAMILYLINKS_RETENTION_DAYS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("purge: FAMILYLINKS_RETENTION_DAYS=%q is not a number of days", v)
		}
		days = n
	}
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("purge: DATABASE_URL is not set")
	}
	ctx := context.Background()
	st, err := openStore(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	cutoff := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	n, err := st.PurgeClosed(ctx, cutoff)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "purge: personal data removed from %d enquiries closed before %s (retention %d days)\n", n, cutoff.UTC().Format(time.DateOnly), days)
	return nil
}
