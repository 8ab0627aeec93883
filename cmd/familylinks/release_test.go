package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseBinaryHasNoDevTools: the binary the Dockerfile builds (no
// build tags) must not contain the developer stack, which installs
// PostgreSQL and Meilisearch with apt-get and npm; the developer build
// (make build, -tags dev) must.
func TestReleaseBinaryHasNoDevTools(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	const devstack = "github.com/familylinks/familylinks/internal/devstack"
	deps := func(tags ...string) string {
		args := append([]string{"list", "-deps"}, tags...)
		out, err := exec.Command(goCmd, append(args, ".")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return string(out)
	}
	if strings.Contains(deps(), devstack) {
		t.Error("the release binary imports internal/devstack (its apt-get and npm installers)")
	}
	if !strings.Contains(deps("-tags", "dev"), devstack) {
		t.Error("the developer build has lost internal/devstack: make run and make test need it")
	}
}
