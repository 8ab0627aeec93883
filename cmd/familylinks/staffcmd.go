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

// staffCmd manages staff accounts: add, reset, reset-totp and disable. It
// is for bootstrap and emergencies: Societies' administrators invite and
// manage their colleagues in the back office (/staff/people).
func staffCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("staff: say add, reset, reset-totp or disable")
	}
	fs := flag.NewFlagSet("staff "+args[0], flag.ContinueOnError)
	email := fs.String("email", "", "the account's e-mail address")
	society := fs.String("society", "", "the Society, by its country's ISO code (de, fr, af…); optional for admins")
	role := fs.String("role", store.RoleCaseworker, "caseworker, society_admin (manages its Society's accounts) or admin (every Society)")
	pageEditor := fs.Bool("page-editor", false, "the account also keeps its Society's contact card")
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
			fmt.Fprintf(stdout, "disabled %s; all its sessions are ended\n", addr)
			return nil
		})
	}
	if args[0] == "reset-totp" {
		return withStore("staff reset-totp", func(ctx context.Context, st *store.Store) error {
			a, err := st.StaffByEmail(ctx, addr)
			if err == nil {
				err = st.ResetTOTP(ctx, a.ID)
			}
			if err != nil {
				return fmt.Errorf("staff reset-totp %s: %w", addr, err)
			}
			if err := st.Audit(ctx, store.AuditEntry{StaffID: &a.ID, Actor: "familylinks staff reset-totp", Society: a.Society, Action: "totp.reset",
				ObjectType: "staff", ObjectID: a.Email}); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "removed the second factor of %s and ended its sessions; it sets one up again at its next sign-in\n", addr)
			return nil
		})
	}
	if args[0] == "reset" {
		return withStore("staff reset", func(ctx context.Context, st *store.Store) error {
			return resetStaff(ctx, st, addr, stdout)
		})
	}
	if args[0] != "add" {
		return fmt.Errorf("staff: unknown action %q", args[0])
	}

	code := strings.ToLower(strings.TrimSpace(*society))
	if *role != store.RoleCaseworker && *role != store.RoleSocietyAdmin && *role != store.RoleAdmin {
		return fmt.Errorf("staff: --role must be caseworker, society_admin or admin, not %q", *role)
	}
	if code != "" || *role != store.RoleAdmin {
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
		if *pageEditor {
			if err := st.SetPageEditor(ctx, a.Email, true); err != nil {
				return err
			}
			a.Role += ", page editor"
		}
		fmt.Fprintf(stdout, "created %s (%s", a.Email, a.Role)
		if code != "" {
			fmt.Fprintf(stdout, ", Society %s", code)
		}
		fmt.Fprintln(stdout, ")")
		if oneTime {
			printOneTime(stdout, password, a)
		}
		return nil
	})
}

// resetStaff gives an account a new one-time password, which also ends
// every session of it.
func resetStaff(ctx context.Context, st *store.Store, email string, stdout io.Writer) error {
	a, err := st.StaffByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("staff reset %s: %w", email, err)
	}
	password := staff.GeneratePassword()
	hash, err := staff.HashPassword(password)
	if err != nil {
		return err
	}
	if a, err = st.SetPassword(ctx, a.ID, hash, true); err != nil {
		return fmt.Errorf("staff reset %s: %w", email, err)
	}
	if err := st.Audit(ctx, store.AuditEntry{StaffID: &a.ID, Actor: "familylinks staff reset", Society: a.Society, Action: "password.reset"}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reset %s; all its sessions are ended\n", a.Email)
	if a.DisabledAt != nil {
		fmt.Fprintln(stdout, "the account is disabled: this password opens nothing while it is")
	}
	printOneTime(stdout, password, a)
	return nil
}

// printOneTime tells the administrator the one-time password and until
// when it works.
func printOneTime(w io.Writer, password string, a store.Staff) {
	fmt.Fprintf(w, "one-time password: %s\n", password)
	if a.PasswordExpiresAt != nil {
		fmt.Fprintf(w, "it expires at %s (in %s); it must be changed at first sign-in at /staff/login\n",
			a.PasswordExpiresAt.UTC().Format("2006-01-02 15:04 MST"), fmt.Sprintf("%d hours", int(store.OneTimePasswordTTL.Hours())))
	}
}
