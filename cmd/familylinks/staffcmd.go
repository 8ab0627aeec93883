package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/site/staff"
	"github.com/familylinks/familylinks/site/store"
)

// staffCmd manages staff accounts: add and disable.
func staffCmd(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("staff: say add or disable")
	}
	dsn := os.Getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("staff: DATABASE_URL is not set (start `make run` or set it)")
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer st.Close()

	switch args[0] {
	case "disable":
		if err := st.DisableStaff(ctx, addr); err != nil {
			return fmt.Errorf("staff disable %s: %w", addr, err)
		}
		fmt.Fprintf(stdout, "disabled %s; its sessions are ended\n", addr)
		return nil
	case "add":
	default:
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
}
