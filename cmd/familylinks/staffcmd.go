package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
)

// staffCmd manages staff accounts: add and disable.
func staffCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("staff: say add or disable")
	}
	fs := flag.NewFlagSet("staff "+args[0], flag.ContinueOnError)
	email := fs.String("email", "", "the account's e-mail address")
	society := fs.String("society", "", "the Society, by its country's ISO code (de, fr, af…); optional for admins")
	role := fs.String("role", store.RoleCaseworker, "caseworker or admin")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	addr := strings.ToLower(strings.TrimSpace(*email))
	if addr == "" || !strings.Contains(addr, "@") {
		return errors.New("staff: --email is required")
	}
	if args[0] == "disable" {
		return withStore("staff disable", func(ctx context.Context, st *store.Store) error {
			if err := st.DisableStaff(ctx, addr); err != nil {
				return fmt.Errorf("staff disable %s: %w", addr, err)
			}
			fmt.Fprintf(stdout, "disabled %s; its sessions are ended\n", addr)
			return nil
		})
	}
	if args[0] != "add" {
		return fmt.Errorf("staff: unknown action %q", args[0])
	}

	code := strings.ToLower(strings.TrimSpace(*society))
	if *role != store.RoleCaseworker && *role != store.RoleAdmin {
		return fmt.Errorf("staff: --role must be caseworker or admin, not %q", *role)
	}
	if code != "" || *role == store.RoleCaseworker {
		data, err := content.Load()
		if err != nil {
			return err
		}
		c, ok := data.Country(code)
		if !ok || c.Society == nil {
			return fmt.Errorf("staff: --society %q is not a country with a National Society", code)
		}
	}
	password, oneTime := staff.GeneratePassword(), true
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		password, oneTime = strings.TrimRight(line, "\r\n"), false
	}
	hash, err := staff.HashPassword(password)
	if err != nil {
		return err
	}
	return withStore("staff add", func(ctx context.Context, st *store.Store) error {
		a, err := st.CreateStaff(ctx, addr, code, *role, hash, oneTime)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s (%s", a.Email, a.Role)
		if code != "" {
			fmt.Fprintf(stdout, ", Society %s", code)
		}
		fmt.Fprintln(stdout, ")")
		if oneTime {
			fmt.Fprintf(stdout, "one-time password: %s\nit must be changed at first sign-in at /staff/login\n", password)
		}
		return nil
	})
}
