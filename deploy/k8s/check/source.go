package check

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// Code is what the manifests are held against in the rest of the
// repository: the variables the binary reads, the routes the probes hit and
// the images of deploy/compose.yaml.
type Code struct {
	Env           map[string]bool // environment variables familylinks reads (familylinks env --names)
	Routes        map[string]bool // paths the router answers GET on (familylinks paths)
	ComposeImages map[string]string
}

// ReadCode reads root, the repository root.
func ReadCode(root string) (*Code, error) {
	c := &Code{Env: map[string]bool{}, Routes: map[string]bool{}, ComposeImages: map[string]string{}}
	// Ask the typed configuration which variables exist, rather than read
	// the code: `familylinks env --names`, built from the release sources.
	cmd := exec.Command("go", "run", "./cmd/familylinks", "env", "--names")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("familylinks env --names: %w", err)
	}
	for _, name := range strings.Fields(string(out)) {
		c.Env[name] = true
	}
	if len(c.Env) == 0 {
		return nil, fmt.Errorf("familylinks env --names listed no variable")
	}
	// And the router which paths it answers: `familylinks paths`.
	cmd = exec.Command("go", "run", "./cmd/familylinks", "paths")
	cmd.Dir = root
	if out, err = cmd.Output(); err != nil {
		return nil, fmt.Errorf("familylinks paths: %w", err)
	}
	for _, p := range strings.Fields(string(out)) {
		c.Routes[p] = true
	}
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "compose.yaml"))
	if err != nil {
		return nil, err
	}
	var compose struct {
		Services map[string]struct {
			Image string `json:"image"`
		} `json:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		return nil, fmt.Errorf("deploy/compose.yaml: %w", err)
	}
	for name, s := range compose.Services {
		if s.Image != "" {
			c.ComposeImages[name] = s.Image
		}
	}
	return c, nil
}

// EnvNames lists the variables, sorted, for messages.
func (c *Code) EnvNames() []string {
	var out []string
	for k := range c.Env {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
