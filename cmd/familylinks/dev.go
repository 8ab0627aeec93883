//go:build dev

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/familylinks/familylinks/internal/devstack"
	"github.com/familylinks/familylinks/site/crypt"
)

const devUsage = `familylinks dev: serve the site with a local PostgreSQL and Meilisearch.

Starts both engines with their data under var/ (kept between runs), writes
var/dev.env, runs the site with FAMILYLINKS_AUTO_MIGRATE=true, and stops the
engines again on Ctrl-C. With DATABASE_URL and MEILI_URL already set it just
serves against those. Reset: stop it, then rm -rf var/pg var/meili var/dev.env.
`

const testEnvUsage = `familylinks testenv -- CMD [ARGS...]: run CMD against throw-away engines.

Starts a temporary PostgreSQL and Meilisearch on free ports, runs CMD with
FAMILYLINKS_TEST_DATABASE_URL, FAMILYLINKS_TEST_MEILI_URL and
FAMILYLINKS_TEST_MEILI_KEY set, removes everything, and exits with CMD's code.
An engine that cannot start is a warning (its tests skip), or with CI=true a
failure before CMD runs.
`

// exitError is returned when a command that familylinks ran (testenv's CMD)
// exits non-zero, so that main can exit with the same code: `make test`
// must fail the way `go test` failed. main should check for
// interface{ ExitCode() int } and pass the code to os.Exit.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// ExitCode is the code the process should exit with.
func (e exitError) ExitCode() int { return e.code }

// loadDevEnv lets a command run from a checkout next to a running
// `familylinks dev` find its engines through var/dev.env; variables already
// set win. serve never reads the file: dev sets the variables itself.
func loadDevEnv(log *slog.Logger) {
	if err := devstack.LoadEnvFile(filepath.Join("var", "dev.env")); err != nil {
		log.Warn("var/dev.env unreadable", "err", err)
	}
}

// runDev serves the site against a persistent local stack under var/.
func runDev(args []string, log *slog.Logger, serve func() error) (err error) {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "help" {
			fmt.Print(devUsage)
			return nil
		}
		return fmt.Errorf("dev: unexpected argument %q\n\n%s", a, devUsage)
	}
	root, err := devstack.ModuleRoot()
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	varDir := filepath.Join(root, "var")
	envFile := filepath.Join(varDir, "dev.env")

	// A value equal to the one in var/dev.env came from that file (loaded by
	// an earlier step or an earlier shell), not from the developer: start
	// the engines it describes rather than trust a server that is not there.
	fromFile, err := devstack.ReadEnvFile(envFile)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	given := func(k string) bool {
		v := os.Getenv(k)
		return v != "" && v != fromFile[k]
	}
	haveDB, haveMeili := given("DATABASE_URL"), given("MEILI_URL")
	if haveDB && haveMeili {
		log.Info("dev: DATABASE_URL and MEILI_URL are set; using those engines, starting none")
		return serve()
	}

	// Registered until the engines are stopped: a Ctrl-C while starting
	// aborts the start, and one during shutdown cannot cut it short. serve
	// registers its own handler and receives the same signals.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	st, err := devstack.Start(ctx, devstack.Options{
		Dir:          varDir,
		Persistent:   true,
		Log:          log,
		SkipPostgres: haveDB,
		SkipMeili:    haveMeili,
	})
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("dev: interrupted while starting; engines stopped")
		}
		return fmt.Errorf("dev: %w", err)
	}
	defer func() {
		if serr := st.Stop(); serr != nil {
			err = errors.Join(err, fmt.Errorf("dev: stopping the engines: %w", serr))
		}
	}()

	// A development data key, made once and kept with the data it seals.
	kv := st.Env()
	if key := fromFile[crypt.EnvVar]; key != "" {
		kv = append(kv, crypt.EnvVar+"="+key)
	} else if os.Getenv(crypt.EnvVar) == "" {
		kv = append(kv, crypt.EnvVar+"="+crypt.NewKey("dev1"))
	}
	if key := fromFile[EnvCSRFKey]; key != "" {
		kv = append(kv, EnvCSRFKey+"="+key)
	} else if os.Getenv(EnvCSRFKey) == "" {
		kv = append(kv, EnvCSRFKey+"="+newCSRFKey())
	}
	if err := devstack.WriteEnvFile(envFile, kv); err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	for _, kv := range append(kv, "FAMILYLINKS_AUTO_MIGRATE=true", "FAMILYLINKS_SEED_DEMO=true") {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	if ctx.Err() != nil {
		return errors.New("dev: interrupted while starting; engines stopped")
	}

	addr := os.Getenv("FAMILYLINKS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	fmt.Fprintf(os.Stderr, "familylinks dev: site http://%s  PostgreSQL %s  Meilisearch %s  (data in %s, settings in %s; Ctrl-C stops all)\n",
		addr, os.Getenv("DATABASE_URL"), os.Getenv("MEILI_URL"), varDir, envFile)
	return serve()
}

// runTestEnv runs a command against throw-away engines and returns its exit
// status as an exitError.
func runTestEnv(args []string, log *slog.Logger) error {
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(os.Stderr, testEnvUsage)
		return exitError{2}
	}
	ci := os.Getenv("CI") == "true"

	// One handler for the whole run: before CMD starts a signal aborts the
	// start; afterwards it is passed on to CMD, and we clean up once CMD has
	// exited.
	sigc := make(chan os.Signal, 4)
	signal.Notify(sigc, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var child *os.Process
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case sig := <-sigc:
				mu.Lock()
				if child != nil {
					child.Signal(sig)
				} else {
					cancel()
				}
				mu.Unlock()
			case <-done:
				return
			}
		}
	}()

	// Two stacks, started in parallel, so that one engine failing leaves the
	// other usable outside CI.
	type started struct {
		st  *devstack.Stack
		err error
	}
	var pg, meili started
	var wg sync.WaitGroup
	wg.Go(func() { pg.st, pg.err = devstack.Start(ctx, devstack.Options{Log: log, SkipMeili: true}) })
	wg.Go(func() { meili.st, meili.err = devstack.Start(ctx, devstack.Options{Log: log, SkipPostgres: true}) })
	wg.Wait()
	stopAll := func() error {
		var errs []error
		for _, s := range []*devstack.Stack{pg.st, meili.st} {
			if s != nil {
				errs = append(errs, s.Stop())
			}
		}
		return errors.Join(errs...)
	}
	if ctx.Err() != nil {
		stopAll()
		return exitError{130}
	}

	env := os.Environ()
	for _, e := range []struct {
		name string
		started
	}{{"PostgreSQL", pg}, {"Meilisearch", meili}} {
		if e.err == nil {
			continue
		}
		if ci {
			stopAll()
			return fmt.Errorf("testenv: %s could not start, and CI=true makes that fatal: %w", e.name, e.err)
		}
		log.Warn("testenv: engine unavailable; the tests that need it will skip", "engine", e.name, "err", e.err)
	}
	if pg.st != nil {
		env = append(env, "FAMILYLINKS_TEST_DATABASE_URL="+pg.st.AdminURL)
	}
	if meili.st != nil {
		env = append(env, "FAMILYLINKS_TEST_MEILI_URL="+meili.st.MeiliURL, "FAMILYLINKS_TEST_MEILI_KEY="+meili.st.MeiliKey)
	}

	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	mu.Lock()
	err := cmd.Start()
	if err == nil {
		child = cmd.Process
	}
	mu.Unlock()
	if err != nil {
		stopAll()
		return fmt.Errorf("testenv: %w", err)
	}
	waitErr := cmd.Wait()
	stopErr := stopAll()

	code := 0
	if waitErr != nil {
		code = 1
		var ee *exec.ExitError
		if errors.As(waitErr, &ee) {
			code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				code = 128 + int(ws.Signal())
			}
		}
	}
	if stopErr != nil {
		if code == 0 {
			return fmt.Errorf("testenv: cleaning up: %w", stopErr)
		}
		log.Error("testenv: cleaning up", "err", stopErr)
	}
	if code != 0 {
		return exitError{code}
	}
	return nil
}
