package devstack

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Each engine can be stopped and started again on the same port with its
// data, and Stop still cleans up after a stopped PostgreSQL.
func TestStopAndStartEngines(t *testing.T) {
	t.Parallel()
	s := start(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	createIndex(t, s, "survives")

	for _, kill := range []bool{true, false} {
		if err := s.StopMeili(kill); err != nil {
			t.Fatal(err)
		}
		if s.MeiliPID() != 0 {
			t.Errorf("MeiliPID after StopMeili(%v): %d, want 0", kill, s.MeiliPID())
		}
		mu, _ := url.Parse(s.MeiliURL)
		if c, err := net.DialTimeout("tcp", mu.Host, time.Second); err == nil {
			c.Close()
			t.Errorf("Meilisearch still accepts connections after StopMeili(%v)", kill)
		}
		if err := s.StartMeili(ctx); err != nil {
			t.Fatal(err)
		}
		if got := meiliGet(t, s.MeiliURL+"/indexes/survives", s.MeiliKey); got["uid"] != "survives" {
			t.Errorf("index after a restart (kill=%v): %v", kill, got)
		}
	}

	query := func() error {
		conn, err := pgx.Connect(ctx, s.DatabaseURL)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS kept (n int); INSERT INTO kept VALUES (1)`)
		return err
	}
	if err := query(); err != nil {
		t.Fatal(err)
	}
	if err := s.StopPostgres("fast"); err != nil {
		t.Fatal(err)
	}
	if err := query(); err == nil {
		t.Fatal("PostgreSQL answered after StopPostgres")
	}
	if err := s.StartPostgres(); err != nil {
		t.Fatal(err)
	}
	if err := query(); err != nil {
		t.Fatal(err)
	}
	// Stopped again: the cleanup's Stop must not fail on it.
	if err := s.StopPostgres("immediate"); err != nil {
		t.Fatal(err)
	}
}
