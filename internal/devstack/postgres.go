package devstack

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	dbName = "familylinks"
	pgUser = "postgres" // the bootstrap superuser and, when we are root, the OS user
)

// pgBins are the three server programs, from one installation.
type pgBins struct{ initdb, pgCtl, postgres string }

type pgServer struct {
	bins       pgBins
	runAs      string // "postgres" when we are root: initdb refuses root
	data       string
	logFile    string
	sockDir    string
	ownSockDir bool // sockDir is a temp dir of its own, removed on Stop
	port       int
	down       bool // stopped by StopPostgres: Stop has nothing to stop
}

func (p *pgServer) url(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(pgUser),
		Host:     "127.0.0.1:" + strconv.Itoa(p.port),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// command runs a PostgreSQL program, as the postgres user when we are root.
// It starts in / because the postgres user may not be able to enter our
// working directory.
func (p *pgServer) command(name string, args ...string) *exec.Cmd {
	var cmd *exec.Cmd
	if p.runAs != "" {
		cmd = exec.Command(runuserPath(), append([]string{"-u", p.runAs, "--", name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Dir = "/"
	cmd.Env = withoutEnv("PG")
	// Out of the terminal's process group: a Ctrl-C must not kill initdb or
	// pg_ctl half-way; Start notices the signal and stops in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func runuserPath() string {
	if p, err := exec.LookPath("runuser"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/runuser", "/sbin/runuser"} {
		if fileExists(p) {
			return p
		}
	}
	return "runuser"
}

func (s *Stack) startPostgres(ctx context.Context, wantPort int) (*pgServer, error) {
	t0 := time.Now()
	bins, err := findPostgres(s.log)
	if err != nil {
		return nil, err
	}
	p := &pgServer{bins: bins}

	base := s.dir
	if os.Geteuid() == 0 {
		p.runAs = pgUser
		if err := ensurePostgresUser(s.log); err != nil {
			return nil, err
		}
		if !canTraverse(pgUser, base) {
			base, err = s.pgFallbackDir()
			if err != nil {
				return nil, err
			}
			s.log.Warn("devstack: the postgres user cannot reach the data directory; keeping PostgreSQL's data in /tmp instead",
				"dir", s.dir, "instead", base)
		}
	}
	p.data = filepath.Join(base, "pg")
	p.logFile = filepath.Join(base, "pg.log")
	if err := p.prepareLog(); err != nil {
		return nil, err
	}

	if fileExists(filepath.Join(p.data, "PG_VERSION")) {
		if s.persistent {
			// We hold the dev lock, so a server still running on this data
			// dir was left behind by a dev stack that crashed.
			if err := p.stopLeftover(s.log); err != nil {
				return nil, err
			}
		}
	} else {
		if err := p.initdb(s.log, !s.persistent); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("devstack: start interrupted: %w", err)
	}

	var remembered int
	var candidates []int
	if s.persistent {
		remembered = rememberedPort(s.dir, "DATABASE_URL")
		if remembered == 0 {
			remembered = defaultPGPort
		}
		candidates = []int{remembered, defaultPGPort}
	}
	if p.port, err = choosePort(wantPort, candidates...); err != nil {
		return nil, err
	}
	if wantPort == 0 && remembered != 0 && p.port != remembered {
		s.log.Warn("devstack: PostgreSQL's usual port is taken; using another", "wanted", remembered, "port", p.port)
	}
	if err := p.chooseSockDir(); err != nil {
		return nil, err
	}
	if err := p.start(!s.persistent); err != nil {
		// Started or not, make sure nothing is left running.
		p.stopIfRunning(s.log)
		return nil, err
	}
	if err := createDatabase(ctx, p.url("postgres"), dbName); err != nil {
		p.stopIfRunning(s.log)
		return nil, err
	}
	s.log.Info("devstack: PostgreSQL ready", "port", p.port, "data", p.data, "log", p.logFile, "took", since(t0))
	return p, nil
}

// findPostgres looks on PATH, then in Debian's /usr/lib/postgresql/*/bin
// (15 first, then the newest), and as root installs postgresql-15 if none.
func findPostgres(log *slog.Logger) (pgBins, error) {
	if b, ok := pgBinsOnPath(); ok {
		return b, nil
	}
	if b, ok := pgBinsInLib(); ok {
		return b, nil
	}
	if os.Geteuid() == 0 {
		log.Info("devstack: PostgreSQL is not installed; installing postgresql-15 from Debian (this takes a minute)")
		if err := aptInstall(log, "postgresql-15", "postgresql"); err != nil {
			return pgBins{}, fmt.Errorf("devstack: installing PostgreSQL: %w: %w", ErrMissing, err)
		}
		if b, ok := pgBinsInLib(); ok {
			return b, nil
		}
		if b, ok := pgBinsOnPath(); ok {
			return b, nil
		}
	}
	return pgBins{}, fmt.Errorf("devstack: PostgreSQL: %w: initdb, pg_ctl and postgres are neither on PATH nor in /usr/lib/postgresql/*/bin (apt-get install postgresql-15)", ErrMissing)
}

func pgBinsOnPath() (pgBins, bool) {
	var b pgBins
	var err error
	if b.initdb, err = exec.LookPath("initdb"); err != nil {
		return b, false
	}
	if b.pgCtl, err = exec.LookPath("pg_ctl"); err != nil {
		return b, false
	}
	if b.postgres, err = exec.LookPath("postgres"); err != nil {
		return b, false
	}
	return b, true
}

func pgBinsInLib() (pgBins, bool) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		if v == 15 {
			return 1e9 // the version production runs
		}
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return cmp.Compare(version(b), version(a)) })
	for _, d := range dirs {
		b := pgBins{filepath.Join(d, "initdb"), filepath.Join(d, "pg_ctl"), filepath.Join(d, "postgres")}
		if fileExists(b.initdb) && fileExists(b.pgCtl) && fileExists(b.postgres) {
			return b, true
		}
	}
	return pgBins{}, false
}

func ensurePostgresUser(log *slog.Logger) error {
	if _, err := user.Lookup(pgUser); err == nil {
		return nil
	}
	log.Info("devstack: creating the postgres system user")
	if _, err := run(exec.Command("useradd", "--system", "--home", "/nonexistent", "--shell", "/usr/sbin/nologin", pgUser)); err != nil {
		return fmt.Errorf("devstack: creating the postgres user: %w", err)
	}
	return nil
}

// canTraverse asks the OS, as that user, whether dir can be entered: this
// covers every parent's mode, groups and ACLs at once.
func canTraverse(username, dir string) bool {
	return exec.Command(runuserPath(), "-u", username, "--", "test", "-x", dir).Run() == nil
}

// pgFallbackDir is a directory under /tmp for a data dir the postgres user
// cannot reach. For dev it is derived from the dir, so restarts find it.
func (s *Stack) pgFallbackDir() (string, error) {
	if !s.persistent {
		d, err := os.MkdirTemp("/tmp", "familylinks-pg-")
		if err != nil {
			return "", err
		}
		s.remove = append(s.remove, d)
		return d, os.Chmod(d, 0o755)
	}
	sum := sha256.Sum256([]byte(s.dir))
	d := filepath.Join("/tmp", "familylinks-pg-"+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	return d, nil
}

func (p *pgServer) chown(path string) error {
	if p.runAs == "" {
		return nil
	}
	u, err := user.Lookup(p.runAs)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// prepareLog creates pg.log ahead of pg_ctl, owned by the user pg_ctl runs
// as, since that user may not create files in our directory.
func (p *pgServer) prepareLog() error {
	f, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	f.Close()
	if err := p.chown(p.logFile); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	return nil
}

// initdb creates the cluster in pg.init and renames it to pg once complete,
// so an interrupted first start never leaves a half-made cluster behind.
func (p *pgServer) initdb(log *slog.Logger, noSync bool) error {
	t0 := time.Now()
	tmp := p.data + ".init"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	if err := os.Mkdir(tmp, 0o700); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	if err := p.chown(tmp); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	args := []string{"-D", tmp, "-A", "trust", "-U", pgUser, "--encoding=UTF8"}
	if noSync {
		args = append(args, "--no-sync")
	}
	logf, err := os.OpenFile(p.logFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	defer logf.Close()
	var lastErr error
	for _, locale := range []string{"C.UTF-8", "C"} {
		cmd := p.command(p.bins.initdb, append(args, "--locale="+locale)...)
		out, err := run(cmd)
		logf.Write(out)
		if err == nil {
			lastErr = nil
			break
		}
		lastErr = err
		if !strings.Contains(string(out), "locale") {
			break
		}
		log.Info("devstack: initdb: locale C.UTF-8 unavailable, using C")
		// initdb empties the directory it was given when it fails.
	}
	if lastErr != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("devstack: initdb: %w", lastErr)
	}
	if err := os.Rename(tmp, p.data); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	log.Info("devstack: PostgreSQL cluster created", "data", p.data, "took", since(t0))
	return nil
}

func (p *pgServer) chooseSockDir() error {
	// A Unix socket path holds at most 107 bytes: "/.s.PGSQL.54329" is 15.
	if len(p.data)+16 <= 107 {
		p.sockDir = p.data
		return nil
	}
	d, err := os.MkdirTemp("/tmp", "familylinks-pgsock-")
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	p.sockDir, p.ownSockDir = d, true
	return p.chown(d)
}

func (p *pgServer) start(throwaway bool) error {
	opts := []string{
		"-c", "listen_addresses=127.0.0.1",
		"-p", strconv.Itoa(p.port),
		"-k", shellQuote(p.sockDir),
	}
	if throwaway {
		// A test cluster is deleted afterwards: durability buys nothing.
		opts = append(opts, "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off")
	}
	cmd := p.command(p.bins.pgCtl, "start", "-w", "-t", "60", "-D", p.data, "-l", p.logFile, "-o", strings.Join(opts, " "))
	if _, err := run(cmd); err != nil {
		return fmt.Errorf("devstack: starting PostgreSQL: %w%s", err, tailFile(p.logFile))
	}
	return nil
}

// stopLeftover stops a server a crashed dev run left on this data dir.
// pg_ctl status exits 0 only when the postmaster in postmaster.pid is alive;
// a stale pid file alone is handled by postgres itself.
func (p *pgServer) stopLeftover(log *slog.Logger) error {
	if !fileExists(filepath.Join(p.data, "postmaster.pid")) {
		return nil
	}
	if p.command(p.bins.pgCtl, "status", "-D", p.data).Run() != nil {
		return nil
	}
	log.Warn("devstack: stopping a PostgreSQL left running by an earlier dev run", "data", p.data)
	if _, err := run(p.command(p.bins.pgCtl, "stop", "-m", "fast", "-w", "-t", "30", "-D", p.data)); err != nil {
		return fmt.Errorf("devstack: stopping the leftover PostgreSQL: %w", err)
	}
	return nil
}

// stop shuts the server down: fast (rolls back sessions, checkpoints), then
// immediate if that hangs.
func (p *pgServer) stop(log *slog.Logger) error {
	t0 := time.Now()
	_, err := run(p.command(p.bins.pgCtl, "stop", "-m", "fast", "-w", "-t", "30", "-D", p.data))
	if err == nil {
		log.Info("devstack: PostgreSQL stopped", "took", since(t0))
		return nil
	}
	log.Warn("devstack: fast shutdown of PostgreSQL failed; trying immediate", "err", err)
	if _, err2 := run(p.command(p.bins.pgCtl, "stop", "-m", "immediate", "-w", "-t", "10", "-D", p.data)); err2 != nil {
		return fmt.Errorf("devstack: stopping PostgreSQL: %w", errors.Join(err, err2))
	}
	return nil
}

// stopIfRunning stops a server that a failed or interrupted start may have
// left running, with a clean shutdown so that dev data needs no recovery.
func (p *pgServer) stopIfRunning(log *slog.Logger) {
	if fileExists(filepath.Join(p.data, "postmaster.pid")) {
		if err := p.stop(log); err != nil {
			log.Warn("devstack: stopping PostgreSQL after a failed start", "err", err)
		}
	}
}

// createDatabase creates db unless it exists.
func createDatabase(ctx context.Context, adminURL, db string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("devstack: connecting to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
		return fmt.Errorf("devstack: looking for database %s: %w", db, err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{db}.Sanitize()); err != nil {
		return fmt.Errorf("devstack: creating database %s: %w", db, err)
	}
	return nil
}

// rememberedPort is the port of key's URL in dir/dev.env, if it is local.
func rememberedPort(dir, key string) int {
	kv, err := ReadEnvFile(filepath.Join(dir, "dev.env"))
	if err != nil {
		return 0
	}
	u, err := url.Parse(kv[key])
	if err != nil || u.Hostname() != "127.0.0.1" {
		return 0
	}
	port, _ := strconv.Atoi(u.Port())
	return port
}

// shellQuote quotes s for /bin/sh: pg_ctl hands -o to the shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
