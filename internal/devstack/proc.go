package devstack

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ModuleRoot is the repository root: the nearest directory, walking up from
// the working directory, that holds go.mod and internal/devstack.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) &&
			fileExists(filepath.Join(dir, "internal", "devstack", "meilisearch", "package.json")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("devstack: not inside the familylinks repository (no go.mod with internal/devstack above the working directory)")
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// freePort asks the kernel for an unused loopback port. Another process may
// take it before the engine binds it; the engine then fails loudly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devstack: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// choosePort returns want if set, else the first free candidate (the port
// of the previous dev run, then the default), else any free port.
func choosePort(want int, candidates ...int) (int, error) {
	if want != 0 {
		return want, nil
	}
	for _, p := range candidates {
		if p > 0 && portFree(p) {
			return p, nil
		}
	}
	return freePort()
}

// installLock serialises package installs (apt-get, npm ci) between
// processes and goroutines: flock is per open file, so each caller opens its
// own descriptor. One lock per user: another user's file may not be ours to
// open.
func installLock() (unlock func(), err error) {
	name := fmt.Sprintf("familylinks-devstack-install-%d.lock", os.Geteuid())
	f, err := os.OpenFile(filepath.Join(os.TempDir(), name), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// run runs a command, returning its combined output; the error carries the
// output's tail so that the message says what went wrong.
func run(cmd *exec.Cmd) ([]byte, error) {
	var out bytes.Buffer
	if cmd.Stdout == nil {
		cmd.Stdout = &out
	}
	if cmd.Stderr == nil {
		cmd.Stderr = &out
	}
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s: %w%s", strings.Join(cmd.Args, " "), err, indentTail(out.Bytes()))
	}
	return out.Bytes(), nil
}

// aptInstall installs the first Debian package of pkgs that apt-get accepts.
// Only root gets here.
func aptInstall(log *slog.Logger, pkgs ...string) error {
	unlock, err := installLock()
	if err != nil {
		return err
	}
	defer unlock()
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	log.Info("devstack: apt-get update")
	cmd := exec.Command("apt-get", "update")
	cmd.Env = env
	if _, err := run(cmd); err != nil {
		return err
	}
	var errs []error
	for _, p := range pkgs {
		log.Info("devstack: apt-get install", "package", p)
		cmd := exec.Command("apt-get", "install", "-y", "--no-install-recommends", p)
		cmd.Env = env
		if _, err := run(cmd); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	return errors.Join(errs...)
}

// withoutEnv returns the environment minus the variables with one of the
// prefixes, so that a developer's PGDATA or MEILI_DB_PATH cannot steer the
// engines away from the flags we pass.
func withoutEnv(prefixes ...string) []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		env = append(env, kv)
	}
	return env
}

// tailFile returns the last lines of a log file, indented, for error messages.
func tailFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return indentTail(b)
}

func indentTail(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	s := strings.TrimSpace(strings.Join(lines, "\n"))
	if s == "" {
		return ""
	}
	return "\n\t" + strings.ReplaceAll(s, "\n", "\n\t")
}

// processAlive reports whether pid names a live process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
