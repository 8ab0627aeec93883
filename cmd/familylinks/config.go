package main

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
)

// Config is every setting familylinks reads from its environment, read and
// checked in one place (loadConfig). The tags are the documentation: the
// README's table and `familylinks env` are made from them, and a test holds
// the README to them. The Kubernetes check asks `familylinks env` which
// variables exist.
type Config struct {
	DatabaseURL    string `env:"DATABASE_URL" doc:"PostgreSQL; the back office needs it"`
	MeiliURL       string `env:"MEILI_URL" doc:"Meilisearch"`
	MeiliAPIKey    string `env:"MEILI_API_KEY" doc:"the Meilisearch key that writes the index (the admin key)"`
	MeiliSearchKey string `env:"MEILI_SEARCH_KEY" shown:"none (make run makes one)" doc:"the key the site searches with, which can only search the faces indexes; unset, serve makes one with MEILI_API_KEY when that is the master key (dev and tests), and otherwise answers the gallery from PostgreSQL and reports search degraded in /readyz"`
	IndexPrefix    string `env:"FAMILYLINKS_INDEX_PREFIX" doc:"prefix of the Meilisearch index names, so that several sites share one Meilisearch; serve, reindex and check-index must agree"`
	DataKey        string `env:"FAMILYLINKS_DATA_KEY" shown:"none (make run makes one)" doc:"keyring sealing personal data, id:base64(32 bytes)[,older…]; required with DATABASE_URL; familylinks keygen prints a key"`
	CSRFKey        string `env:"FAMILYLINKS_CSRF_KEY" shown:"none (make run makes one)" doc:"base64 of at least 32 bytes signing the forms' CSRF tokens, the same on every replica; required with DATABASE_URL; familylinks keygen --csrf prints one"`
	SMTPURL        string `env:"FAMILYLINKS_SMTP_URL" doc:"smtp://user:pass@host:587?from=noreply@example.org for inbox notifications; unset: logged"`
	RetentionDays  int    `env:"FAMILYLINKS_RETENTION_DAYS" default:"365" doc:"how long purge keeps personal data of closed enquiries, in days"`
	AutoMigrate    bool   `env:"FAMILYLINKS_AUTO_MIGRATE" default:"false" doc:"true: serve applies migrations at start-up"`
	SeedDemo       bool   `env:"FAMILYLINKS_SEED_DEMO" default:"false" doc:"true: serve adds 24 demo gallery entries, marked as demos, to an empty gallery (make run sets it); never in production"`
	Addr           string `env:"FAMILYLINKS_ADDR" default:"127.0.0.1:8080" doc:"listen address"`
	BaseURL        string `env:"FAMILYLINKS_BASE_URL" shown:"http://$FAMILYLINKS_ADDR" doc:"public origin, used in canonical links, hreflang and the sitemap; https://… also makes cookies Secure"`
	TrustedProxies string `env:"FAMILYLINKS_TRUSTED_PROXIES" shown:"none: the peer's address is the client's" doc:"comma-separated IPs/CIDRs of proxies whose X-Real-IP is believed: only your reverse proxy's own addresses, never every private range (deploy/README.md, Client addresses); serve refuses an entry that is not an IP or CIDR, and 0.0.0.0/0"`
	AuditAddrDays  int    `env:"FAMILYLINKS_AUDIT_ADDRESS_DAYS" default:"90" doc:"how long the audit log keeps the client address of staff sign-ins and back-office actions, in days"`
	AuditKeepDays  int    `env:"FAMILYLINKS_AUDIT_KEEP_DAYS" default:"730" doc:"how long the audit log keeps its entries, in days (at least 365: the database refuses to delete a younger entry)"`
	LogLevel       string `env:"FAMILYLINKS_LOG_LEVEL" default:"info" doc:"debug, info, warn, error; logs are JSON on stderr"`
	// MemLimit is read by the Go runtime itself; serve only looks whether
	// it is set.
	MemLimit string `env:"GOMEMLIMIT" shown:"256MiB (serve's own)" doc:"the Go runtime's soft memory limit; set it to about 80% of a container's memory limit"`
}

// The tags: env names the variable, default is the value when it is unset,
// shown replaces the default in the documentation when the default is not
// a plain value (computed, or made by make run), doc says what it does.

// ConfigVar is one setting as the documentation shows it.
type ConfigVar struct {
	Name, Default, Doc string
}

// configVars lists the settings in the order of Config.
func configVars() []ConfigVar {
	t := reflect.TypeOf(Config{})
	out := make([]ConfigVar, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		def := f.Tag.Get("shown")
		if def == "" {
			def = f.Tag.Get("default")
		}
		if def == "" {
			def = "none"
		}
		out[i] = ConfigVar{Name: f.Tag.Get("env"), Default: def, Doc: f.Tag.Get("doc")}
	}
	return out
}

// loadConfig reads every setting with getenv (os.Getenv in the binary),
// applies the defaults and refuses a value that is not what it should be,
// naming the variable.
func loadConfig(getenv func(string) string) (Config, error) {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("env")
		raw := strings.TrimSpace(getenv(name))
		switch f.Type.Kind() {
		case reflect.String:
			if raw == "" {
				raw = f.Tag.Get("default")
			}
			v.Field(i).SetString(raw)
		case reflect.Int:
			if raw == "" {
				raw = f.Tag.Get("default")
			}
			n, err := strconv.Atoi(raw)
			if err != nil || n < 0 {
				return Config{}, fmt.Errorf("%s: %q is not a number of days", name, raw)
			}
			v.Field(i).SetInt(int64(n))
		case reflect.Bool:
			switch raw {
			case "", "false":
			case "true":
				v.Field(i).SetBool(true)
			default:
				return Config{}, fmt.Errorf("%s: %q is neither true nor false", name, raw)
			}
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	if c.AuditAddrDays < 1 {
		return Config{}, fmt.Errorf("FAMILYLINKS_AUDIT_ADDRESS_DAYS: %d is not a number of days (at least 1)", c.AuditAddrDays)
	}
	if c.AuditKeepDays < 365 {
		return Config{}, fmt.Errorf("FAMILYLINKS_AUDIT_KEEP_DAYS: %d days is too short: audit entries are kept at least 365 days", c.AuditKeepDays)
	}
	return c, nil
}

// mustConfig is loadConfig(os.Getenv) for the commands.
func mustConfig() (Config, error) { return loadConfig(os.Getenv) }

// configTable is the README's table of settings.
func configTable() string {
	var sb strings.Builder
	sb.WriteString("| variable | default | what it does |\n|---|---|---|\n")
	for _, cv := range configVars() {
		fmt.Fprintf(&sb, "| `%s` | %s | %s |\n", cv.Name, cv.Default, cv.Doc)
	}
	return sb.String()
}

// envCmd prints the settings: each name, default and meaning, or with
// --names the names alone (the Kubernetes check reads those).
func envCmd(w io.Writer, args []string) error {
	names := len(args) == 1 && args[0] == "--names"
	if len(args) > 0 && !names {
		return fmt.Errorf("env: unexpected arguments %q (only --names)", args)
	}
	for _, cv := range configVars() {
		if names {
			fmt.Fprintln(w, cv.Name)
			continue
		}
		fmt.Fprintf(w, "%s (default %s)\n    %s\n", cv.Name, cv.Default, cv.Doc)
	}
	return nil
}
