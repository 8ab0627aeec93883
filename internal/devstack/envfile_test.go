package devstack

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadEnvFileKeepsTheEnvironment(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dev.env")
	content := "# written by familylinks dev\n" +
		"DATABASE_URL=postgres://from-file\n" +
		"export MEILI_URL=\"http://from-file\"\n" +
		"\n" +
		"DEVSTACK_TEST_EMPTY=from-file\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DATABASE_URL", "postgres://from-env")
	t.Setenv("DEVSTACK_TEST_EMPTY", "") // set, though empty: still wins
	t.Setenv("MEILI_URL", "")
	os.Unsetenv("MEILI_URL") // t.Setenv restores it afterwards

	if err := LoadEnvFile(path); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"DATABASE_URL":        "postgres://from-env",
		"DEVSTACK_TEST_EMPTY": "",
		"MEILI_URL":           "http://from-file",
	} {
		if got := os.Getenv(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

func TestLoadEnvFileMissingAndMalformed(t *testing.T) {
	dir := t.TempDir()
	if err := LoadEnvFile(filepath.Join(dir, "absent.env")); err != nil {
		t.Errorf("missing file: %v, want nil", err)
	}
	bad := filepath.Join(dir, "bad.env")
	os.WriteFile(bad, []byte("OK=1\nthis is not a pair\n"), 0o600)
	if err := LoadEnvFile(bad); err == nil {
		t.Error("a line without = was accepted")
	}
}

func TestWriteEnvFileMerges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "dev.env")
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path, []byte("# keep me\nFAMILYLINKS_DATA_KEY=secret\nDATABASE_URL=postgres://old\n"), 0o644)

	if err := WriteEnvFile(path, []string{"DATABASE_URL=postgres://new", "MEILI_URL=http://m", "MEILI_API_KEY=k"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "# keep me\nFAMILYLINKS_DATA_KEY=secret\nDATABASE_URL=postgres://new\nMEILI_URL=http://m\nMEILI_API_KEY=k\n"
	if string(b) != want {
		t.Errorf("file:\n%s\nwant:\n%s", b, want)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600: the file holds keys", fi.Mode().Perm())
	}
	kv, err := ReadEnvFile(path)
	if err != nil || kv["FAMILYLINKS_DATA_KEY"] != "secret" || kv["MEILI_API_KEY"] != "k" {
		t.Errorf("read back: %v, %v", kv, err)
	}
	if err := WriteEnvFile(path, []string{"no equals sign"}); err == nil {
		t.Error("a pair without = was written")
	}
}
