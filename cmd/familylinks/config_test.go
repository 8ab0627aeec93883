package main

import (
	"os"
	"strings"
	"testing"
)

const (
	settingsBegin = "<!-- settings: from cmd/familylinks/config.go; a test holds this table to it -->"
	settingsEnd   = "<!-- end of settings -->"
)

// TestReadmeSettingsTable: the README's table of environment variables is
// the one the Config type documents. FAMILYLINKS_UPDATE_README=true writes
// it.
func TestReadmeSettingsTable(t *testing.T) {
	path := "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, settingsBegin), strings.Index(s, settingsEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the settings markers")
	}
	want := settingsBegin + "\n\n" + configTable() + "\n" + settingsEnd
	if got := s[i : j+len(settingsEnd)]; got != want {
		if os.Getenv("FAMILYLINKS_UPDATE_README") == "true" {
			if err := os.WriteFile(path, []byte(s[:i]+want+s[j+len(settingsEnd):]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's settings table is not cmd/familylinks/config.go's; run FAMILYLINKS_UPDATE_README=true go test -run TestReadmeSettingsTable ./cmd/familylinks")
	}
}

// TestLoadConfig: defaults apply, values are read, and a bad value is
// refused with the variable's name.
func TestLoadConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.BaseURL != "http://127.0.0.1:8080" || c.RetentionDays != 365 || c.AuditAddrDays != 90 || c.LogLevel != "info" || c.AutoMigrate {
		t.Errorf("defaults: %+v", c)
	}
	c, err = loadConfig(env(map[string]string{"FAMILYLINKS_ADDR": "0.0.0.0:9000", "FAMILYLINKS_RETENTION_DAYS": "30", "FAMILYLINKS_AUTO_MIGRATE": "true", "DATABASE_URL": " postgres://x "}))
	if err != nil || c.BaseURL != "http://0.0.0.0:9000" || c.RetentionDays != 30 || !c.AutoMigrate || c.DatabaseURL != "postgres://x" {
		t.Errorf("values: %+v %v", c, err)
	}
	for k, v := range map[string]string{"FAMILYLINKS_RETENTION_DAYS": "a year", "FAMILYLINKS_AUTO_MIGRATE": "yes", "FAMILYLINKS_AUDIT_ADDRESS_DAYS": "0"} {
		if _, err := loadConfig(env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: %v, want an error naming it", k, v, err)
		}
	}
	for _, cv := range configVars() {
		if cv.Name == "" || cv.Doc == "" {
			t.Errorf("undocumented setting %+v", cv)
		}
	}
}
