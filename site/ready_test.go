package site_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/familylinks/familylinks/content"
	"github.com/familylinks/familylinks/locales"
	"github.com/familylinks/familylinks/search"
	"github.com/familylinks/familylinks/site"
	"github.com/familylinks/familylinks/site/crypt"
	"github.com/familylinks/familylinks/site/meta"
	"github.com/familylinks/familylinks/site/sitetest"
	"github.com/familylinks/familylinks/site/store/storetest"
)

func meiliFromEnv(t *testing.T) (string, string) {
	t.Helper()
	u, k := os.Getenv("FAMILYLINKS_TEST_MEILI_URL"), os.Getenv("FAMILYLINKS_TEST_MEILI_KEY")
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("FAMILYLINKS_TEST_MEILI_URL is not set (CI=true forbids skipping Meilisearch)")
		}
		t.Skip("FAMILYLINKS_TEST_MEILI_URL is not set: run `make test`")
	}
	return u, k
}

func readyApp(t *testing.T, deps site.Deps) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	data, _ := content.Load()
	cat, _ := locales.Load(log)
	deps.Content, deps.Catalog, deps.Log = data, cat, log
	app, err := site.New(site.Config{BaseURL: baseURL}, deps)
	if err != nil {
		t.Fatal(err)
	}
	return &env{app: app, data: data, catalog: cat, logs: &sitetest.LogRecorder{}, site: &sitetest.Env{App: app, Data: data, Catalog: cat}}
}

func readyz(t *testing.T, e *env) (int, meta.Readiness) {
	t.Helper()
	res := e.get(t, "/readyz")
	var r meta.Readiness
	if err := json.Unmarshal(res.body, &r); err != nil {
		t.Fatalf("readyz is not JSON: %v: %s", err, res.body)
	}
	return res.StatusCode, r
}

func TestReadyzReportsEachEngine(t *testing.T) {
	mu, mk := meiliFromEnv(t)
	st := storetest.New(t)
	keys, err := crypt.Parse(crypt.NewKey("t1"))
	if err != nil {
		t.Fatal(err)
	}
	live, err := search.New(search.Config{URL: mu, APIKey: mk, SearchWithAPIKey: true})
	if err != nil {
		t.Fatal(err)
	}
	// A Meilisearch that is not there: a closed port.
	gone, err := search.New(search.Config{URL: "http://127.0.0.1:1", APIKey: mk, SearchWithAPIKey: true})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		deps   site.Deps
		code   int
		status string
		pg, ms string
		pageOK bool
	}{
		{"both up", site.Deps{Store: st, Search: live, Keys: keys, CSRFKey: make([]byte, 32)}, 200, "ready", "up", "up", true},
		{"search down", site.Deps{Store: st, Search: gone, Keys: keys, CSRFKey: make([]byte, 32)}, 200, "degraded", "up", "down", true},
		{"nothing configured", site.Deps{}, 503, "unavailable", "not_configured", "not_configured", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := readyApp(t, tt.deps)
			code, r := readyz(t, e)
			if code != tt.code || r.Status != tt.status || r.Checks["postgres"].Status != tt.pg || r.Checks["meilisearch"].Status != tt.ms {
				t.Fatalf("got %d %+v", code, r)
			}
			if tt.ms == "down" && r.Checks["meilisearch"].Error == "" {
				t.Error("a down engine must say why")
			}
			// The public endpoint says why in a word; the driver's message
			// (hosts, ports, users) stays in the log.
			for name, c := range r.Checks {
				if c.Error != "" && c.Error != "error" && c.Error != "timeout" {
					t.Errorf("%s: /readyz shows the raw error %q", name, c.Error)
				}
			}
			// Public pages keep serving whatever the engines do.
			if res := e.get(t, "/en/countries/af"); (res.StatusCode == 200) != tt.pageOK {
				t.Errorf("country page: %d", res.StatusCode)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t)
	e.get(t, "/en/countries/af")
	e.get(t, "/en/countries/zz")
	body := string(e.get(t, "/metrics").body)
	for _, want := range []string{
		`familylinks_http_requests_total{method="GET",route="/:lang/countries/:iso2",status="200"} 1`,
		`familylinks_http_requests_total{method="GET",route="/:lang/countries/:iso2",status="404"} 1`,
		`familylinks_http_request_duration_seconds_bucket{route="/:lang/countries/:iso2"`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if res := e.get(t, "/metrics"); res.StatusCode != http.StatusOK {
		t.Errorf("metrics: %d", res.StatusCode)
	}
}
