package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// start starts a stack for a test. A missing engine binary skips the test,
// except in CI, where it must be there.
func start(t *testing.T, o Options) *Stack {
	t.Helper()
	if testing.Verbose() {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := Start(ctx, o)
	if errors.Is(err, ErrMissing) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func TestThrowawayStack(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	dir := s.Dir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// PostgreSQL answers on both URLs, only on loopback, with fsync off.
	for _, u := range []string{s.DatabaseURL, s.AdminURL} {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		var one int
		if err := conn.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1 on %s: %d, %v", u, one, err)
		}
		var fsync, listen string
		if err := conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('listen_addresses')`).Scan(&fsync, &listen); err != nil {
			t.Fatal(err)
		}
		if fsync != "off" || listen != "127.0.0.1" {
			t.Errorf("fsync=%s listen_addresses=%s, want off and 127.0.0.1", fsync, listen)
		}
		conn.Close(ctx)
	}

	// Meilisearch is healthy, demands the key, and runs a task with it.
	if got := meiliGet(t, s.MeiliURL+"/health", ""); got["status"] != "available" {
		t.Errorf("health: %v", got)
	}
	if code := meiliStatus(t, s.MeiliURL+"/indexes", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /indexes without the key: %d, want 401", code)
	}
	createIndex(t, s, "harness")

	env := strings.Join(s.Env(), "\n")
	for _, want := range []string{"DATABASE_URL=" + s.DatabaseURL, "MEILI_URL=" + s.MeiliURL, "MEILI_API_KEY=" + s.MeiliKey} {
		if !strings.Contains(env, want) {
			t.Errorf("Env() lacks %s", want)
		}
	}

	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still exists after Stop (%v)", dir, err)
	}
	for _, u := range []string{s.DatabaseURL, s.MeiliURL} {
		pu, _ := url.Parse(u)
		if c, err := net.DialTimeout("tcp", pu.Host, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after Stop", pu.Host)
		}
	}
}

func TestPersistentStackKeepsData(t *testing.T) {
	t.Parallel()
	// Not t.TempDir: its parent is 0700, which the postgres user cannot
	// enter, and this test is about the normal layout.
	dir, err := os.MkdirTemp("", "devstack-persist-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first := start(t, Options{Dir: dir, Persistent: true})
	conn, err := pgx.Connect(ctx, first.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	createIndex(t, first, "kept")
	if err := WriteEnvFile(filepath.Join(dir, "dev.env"), first.Env()); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(ctx, Options{Dir: dir, Persistent: true}); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Errorf("a second stack on the same dir while the first runs: %v, want an 'already running' error", err)
	}
	if err := first.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pg", "PG_VERSION")); err != nil {
		t.Fatalf("data gone after Stop of a persistent stack: %v", err)
	}

	second := start(t, Options{Dir: dir, Persistent: true})
	if second.DatabaseURL != first.DatabaseURL || second.MeiliURL != first.MeiliURL {
		t.Errorf("ports moved: %s %s, then %s %s", first.DatabaseURL, first.MeiliURL, second.DatabaseURL, second.MeiliURL)
	}
	if second.MeiliKey != first.MeiliKey {
		t.Error("the Meilisearch master key changed between runs")
	}
	conn, err = pgx.Connect(ctx, second.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, `SELECT v FROM kept`).Scan(&v); err != nil || v != "still here" {
		t.Errorf("table from the first run: %q, %v", v, err)
	}
	var fsync string
	if err := conn.QueryRow(ctx, `SHOW fsync`).Scan(&fsync); err != nil || fsync != "on" {
		t.Errorf("fsync on a persistent cluster: %q, %v; want on", fsync, err)
	}
	if got := meiliGet(t, second.MeiliURL+"/indexes/kept", second.MeiliKey); got["uid"] != "kept" {
		t.Errorf("index from the first run: %v", got)
	}
}

func createIndex(t *testing.T, s *Stack, uid string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.MeiliURL+"/indexes", strings.NewReader(fmt.Sprintf(`{"uid":%q}`, uid)))
	req.Header.Set("Authorization", "Bearer "+s.MeiliKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var task struct {
		TaskUID int `json:"taskUid"`
	}
	err = json.NewDecoder(resp.Body).Decode(&task)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /indexes: %d, %v", resp.StatusCode, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := meiliGet(t, fmt.Sprintf("%s/tasks/%d", s.MeiliURL, task.TaskUID), s.MeiliKey)
		switch got["status"] {
		case "succeeded":
			return
		case "failed", "canceled":
			t.Fatalf("create index task: %v", got)
		}
		if time.Now().After(deadline) {
			t.Fatalf("create index task still %v after 10 s", got["status"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func meiliGet(t *testing.T, u, key string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("GET %s: %d %s", u, resp.StatusCode, b)
	}
	return m
}

func meiliStatus(t *testing.T, u, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// As root, PostgreSQL runs as the postgres user, who cannot enter a 0700
// directory of root's such as t.TempDir(): the data must go elsewhere and
// still be removed on Stop.
func TestUnreachableDirFallsBack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands PostgreSQL to another user")
	}
	t.Parallel()
	s := start(t, Options{Dir: t.TempDir(), SkipMeili: true})
	if strings.HasPrefix(s.pg.data, s.Dir()) {
		t.Fatalf("data dir %s is inside %s, which the postgres user cannot reach", s.pg.data, s.Dir())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.pg.data); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fallback data dir %s survives Stop (%v)", s.pg.data, err)
	}
}
