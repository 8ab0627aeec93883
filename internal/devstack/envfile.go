package devstack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadEnvFile reads KEY=VALUE lines (such as var/dev.env) and sets each key
// that the environment does not already have, so a variable given on the
// command line always wins over the file. A missing file is not an error.
func LoadEnvFile(path string) error {
	kv, err := ReadEnvFile(path)
	if err != nil {
		return err
	}
	for k, v := range kv {
		if _, set := os.LookupEnv(k); set {
			continue
		}
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("devstack: %s: %w", path, err)
		}
	}
	return nil
}

// ReadEnvFile parses KEY=VALUE lines. Blank lines and lines starting with #
// are skipped, an "export " prefix is allowed, and a value wrapped in single
// or double quotes loses them. A missing file gives an empty map.
func ReadEnvFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("devstack: %w", err)
	}
	kv := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		k, v, ok, err := parseEnvLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("devstack: %s:%d: %w", path, n, err)
		}
		if ok {
			kv[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("devstack: %s: %w", path, err)
	}
	return kv, nil
}

func parseEnvLine(line string) (key, value string, ok bool, err error) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", false, nil
	}
	line = strings.TrimPrefix(line, "export ")
	k, v, found := strings.Cut(line, "=")
	k = strings.TrimSpace(k)
	if !found || !validKey(k) {
		return "", "", false, fmt.Errorf("want KEY=VALUE, got %q", line)
	}
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	return k, v, true, nil
}

func validKey(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// WriteEnvFile writes the KEY=VALUE pairs in kv to path with mode 0600. It
// merges: a key already in the file gets its new value in place, every other
// line of the file (comments, keys added by hand or by other tools) stays,
// and new keys are appended. The file is replaced atomically.
func WriteEnvFile(path string, kv []string) error {
	want := make(map[string]string, len(kv))
	var order []string
	for _, pair := range kv {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || !validKey(k) || strings.ContainsAny(v, "\n\r") {
			return fmt.Errorf("devstack: WriteEnvFile: bad pair %q", pair)
		}
		if _, dup := want[k]; !dup {
			order = append(order, k)
		}
		want[k] = v
	}

	var out []string
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("devstack: %w", err)
	}
	written := map[string]bool{}
	if len(old) > 0 {
		for _, line := range strings.Split(strings.TrimRight(string(old), "\n"), "\n") {
			k, _, ok, err := parseEnvLine(line)
			if err == nil && ok {
				if v, replace := want[k]; replace {
					if !written[k] {
						out = append(out, k+"="+v)
						written[k] = true
					}
					continue
				}
			}
			out = append(out, line)
		}
	}
	for _, k := range order {
		if !written[k] {
			out = append(out, k+"="+want[k])
		}
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	f, err := os.CreateTemp(dir, ".env-*")
	if err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.WriteString(strings.Join(out, "\n") + "\n")
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("devstack: writing %s: %w", path, err)
	}
	// CreateTemp already makes it 0600; say so in case that ever changes.
	if err := os.Chmod(f.Name(), 0o600); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("devstack: %w", err)
	}
	return nil
}
