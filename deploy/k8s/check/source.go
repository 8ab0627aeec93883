package check

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Code is what the manifests are held against in the rest of the
// repository: the variables the binary reads, the routes the probes hit and
// the images of deploy/compose.yaml.
type Code struct {
	Env           map[string]bool // environment variables cmd/familylinks reads
	Routes        map[string]bool // paths site/meta registers with r.Get
	ComposeImages map[string]string
}

// ReadCode reads root, the repository root.
func ReadCode(root string) (*Code, error) {
	c := &Code{Env: map[string]bool{}, Routes: map[string]bool{}, ComposeImages: map[string]string{}}
	consts, err := stringConsts(filepath.Join(root, "site", "crypt"))
	if err != nil {
		return nil, err
	}
	if err := c.readEnv(filepath.Join(root, "cmd", "familylinks"), consts); err != nil {
		return nil, err
	}
	if len(c.Env) == 0 {
		return nil, fmt.Errorf("no os.Getenv call found in cmd/familylinks: has the code moved?")
	}
	meta, err := os.ReadFile(filepath.Join(root, "site", "meta", "meta.go"))
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(meta), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, `r.Get("`); ok {
			if p, _, ok := strings.Cut(rest, `"`); ok {
				c.Routes[p] = true
			}
		}
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

// readEnv collects the first argument of os.Getenv, os.LookupEnv and the
// command's env(key, default) helper: a string literal, or a string constant
// of site/crypt (crypt.EnvVar).
func (c *Code) readEnv(dir string, consts map[string]string) error {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return err
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			switch fn := call.Fun.(type) {
			case *ast.SelectorExpr:
				pkg, ok := fn.X.(*ast.Ident)
				if !ok || pkg.Name != "os" || (fn.Sel.Name != "Getenv" && fn.Sel.Name != "LookupEnv") {
					return true
				}
			case *ast.Ident:
				if fn.Name != "env" {
					return true
				}
			default:
				return true
			}
			switch a := call.Args[0].(type) {
			case *ast.BasicLit:
				if s, err := strconv.Unquote(a.Value); err == nil {
					c.Env[s] = true
				}
			case *ast.SelectorExpr:
				if pkg, ok := a.X.(*ast.Ident); ok && pkg.Name == "crypt" {
					if v, ok := consts[a.Sel.Name]; ok {
						c.Env[v] = true
					}
				}
			}
			return true
		})
	}
	return nil
}

// stringConsts returns the string constants declared in a package's
// non-test files.
func stringConsts(dir string) (map[string]string, error) {
	out := map[string]string{}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, spec := range g.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							out[id.Name] = s
						}
					}
				}
			}
		}
	}
	return out, nil
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
