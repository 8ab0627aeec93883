package check

import (
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

const (
	manifestDir = ".."       // deploy/k8s
	repoRoot    = "../../.." // the repository
)

// manifests copies deploy/k8s (without this module) into memory, so that a
// test can break a copy.
func manifests(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS(manifestDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == "check" {
				return fs.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(manifestDir + "/" + p)
		if err != nil {
			return err
		}
		out[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// code asks the binary once for all the tests (each go run takes seconds).
var code = sync.OnceValues(func() (*Code, error) { return ReadCode(repoRoot) })

func mustCode(t *testing.T) *Code {
	t.Helper()
	c, err := code()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run loads and checks fsys; a load error counts as a problem.
func run(fsys fs.FS, c *Code) []error {
	s, err := Load(fsys)
	if err != nil {
		return []error{err}
	}
	return Check(s, c)
}

// TestManifests is the check itself: every manifest decodes strictly and
// every cross-check holds.
func TestManifests(t *testing.T) {
	s, err := Load(os.DirFS(manifestDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Docs) < 10 || len(s.Templates) < 3 {
		t.Fatalf("loaded only %d manifests and %d templates", len(s.Docs), len(s.Templates))
	}
	for _, err := range Check(s, mustCode(t)) {
		t.Error(err)
	}
}

// TestCodeIsRead guards the cross-checks: if the code moved, they would
// check nothing.
func TestCodeIsRead(t *testing.T) {
	c := mustCode(t)
	for _, v := range []string{"DATABASE_URL", "MEILI_URL", "MEILI_API_KEY", "FAMILYLINKS_DATA_KEY", "FAMILYLINKS_TRUSTED_PROXIES", "FAMILYLINKS_RETENTION_DAYS"} {
		if !c.Env[v] {
			t.Errorf("the binary's variables (familylinks env --names) lack %s: %v", v, c.Env)
		}
	}
	for _, r := range []string{"/healthz", "/readyz", "/metrics"} {
		if !c.Routes[r] {
			t.Errorf("route %s not among familylinks paths", r)
		}
	}
	if c.ComposeImages["meilisearch"] == "" || c.ComposeImages["postgres"] == "" {
		t.Errorf("images of deploy/compose.yaml not read: %v", c.ComposeImages)
	}
}

// TestBrokenManifestsFail breaks a copy of the manifests in one way at a
// time and expects the check to say so: a check that cannot fail is no check.
func TestBrokenManifestsFail(t *testing.T) {
	c := mustCode(t)
	if errs := run(manifests(t), c); len(errs) > 0 {
		t.Fatalf("the manifests must pass before they are broken: %v", errs)
	}
	cases := []struct {
		name, file, old, new, want string
	}{
		// 1. strict decoding, and kustomization.yaml
		{"misspelt field", "site-deployment.yaml", "imagePullPolicy: IfNotPresent", "imagePullPolcy: IfNotPresent", "unknown field"},
		{"field in the wrong case", "site-deployment.yaml", "readOnlyRootFilesystem: true", "readonlyRootFilesystem: true", "unknown field"},
		{"duplicate key", "site-service.yaml", "  type: ClusterIP\n", "  type: ClusterIP\n  type: NodePort\n", "already set"},
		{"wrong type", "site-deployment.yaml", "replicas: 3", "replicas: three", "replicas"},
		{"unknown kind", "site-pdb.yaml", "apiVersion: policy/v1", "apiVersion: policy/v1beta1", "not one the check knows"},
		{"CNPG misspelt field", "postgres-cluster.yaml", "primaryUpdateStrategy: unsupervised", "primaryUpdateStrategie: unsupervised", "unknown field"},
		{"Kustomization misspelt field", "kustomization.yaml", "newTag: VERSION", "newtag: VERSION", "unknown field"},
		{"template applied with the rest", "kustomization.yaml", "  - networkpolicies.yaml\n", "  - networkpolicies.yaml\n  - secrets/familylinks.template.yaml\n", "overwrite the real Secrets"},
		{"manifest left out of kustomization", "kustomization.yaml", "  - site-pdb.yaml\n", "", "site-pdb.yaml is not listed"},
		{"Secret among the manifests", "site-configmap.yaml", "apiVersion: v1\nkind: ConfigMap", "apiVersion: v1\nkind: Secret\nmetadata: {name: leaked}\n---\napiVersion: v1\nkind: ConfigMap", "a Secret among the applied manifests"},
		// 2. the code is asked
		{"variable the binary never reads", "site-deployment.yaml", "- name: FAMILYLINKS_LOG_LEVEL\n", "- name: FAMILYLINKS_LOGLEVEL\n", "not read by familylinks"},
		{"serve without its data key", "site-deployment.yaml", "            - name: FAMILYLINKS_DATA_KEY\n              valueFrom:\n                secretKeyRef: {name: familylinks-secrets, key: FAMILYLINKS_DATA_KEY}\n", "", "needs FAMILYLINKS_DATA_KEY"},
		{"purge without its database", "purge-cronjob.yaml", "                - name: DATABASE_URL\n                  valueFrom:\n                    secretKeyRef: {name: familylinks-secrets, key: DATABASE_URL}\n", "", "familylinks purge needs DATABASE_URL"},
		{"unknown command", "purge-cronjob.yaml", `args: ["purge"]`, `args: ["purge-all"]`, "a command requiredEnv does not know"},
		{"envFrom", "site-deployment.yaml", "          env:\n            - name: DATABASE_URL", "          envFrom:\n            - configMapRef: {name: familylinks-config}\n          env:\n            - name: DATABASE_URL", "envFrom"},
		{"readiness on a missing route", "site-deployment.yaml", "path: /readyz", "path: /ready", `probe path "/ready"`},
		// 3. images
		{"latest image", "meilisearch-statefulset.yaml", "getmeili/meilisearch:v1.21.0", "getmeili/meilisearch:latest", "pin a version"},
		{"unpinned site image", "site-deployment.yaml", "image: registry.example/familylinks:VERSION", "image: registry.example/familylinks", "pin a version"},
		{"jobs on another image", "purge-cronjob.yaml", "image: registry.example/familylinks:VERSION", "image: registry.example/familylinks:OTHER", "one image"},
		{"no image version", "kustomization.yaml", "newTag: VERSION", "newTag: latest", "needs a newTag"},
		{"other Meilisearch version", "meilisearch-statefulset.yaml", "getmeili/meilisearch:v1.21.0", "getmeili/meilisearch:v1.20.0", "differs from deploy/compose.yaml"},
		{"PostgreSQL 16", "postgres-cluster.yaml", "postgresql:15.17-standard-trixie", "postgresql:16.9-standard-trixie", "PostgreSQL major"},
		// 4. hardening
		{"may run as root", "site-deployment.yaml", "runAsNonRoot: true\n            allowPrivilegeEscalation", "runAsNonRoot: false\n            allowPrivilegeEscalation", "runAsNonRoot"},
		{"privilege escalation", "purge-cronjob.yaml", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "allowPrivilegeEscalation"},
		{"writable root", "site-deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem"},
		{"capabilities kept", "purge-cronjob.yaml", `drop: ["ALL"]`, `drop: ["NET_RAW"]`, "drop ALL"},
		{"service account token", "meilisearch-statefulset.yaml", "automountServiceAccountToken: false", "automountServiceAccountToken: true", "automountServiceAccountToken"},
		{"service links", "site-deployment.yaml", "enableServiceLinks: false", "enableServiceLinks: true", "enableServiceLinks"},
		{"no memory limit", "site-deployment.yaml", "limits: {cpu: \"2\", memory: 512Mi}", "limits: {cpu: \"2\"}", "need a request and a limit"},
		// 5. secrets
		{"secret key missing from the template", "site-deployment.yaml", "{name: familylinks-secrets, key: MEILI_API_KEY}", "{name: familylinks-secrets, key: MEILI_KEY}", "has no key MEILI_KEY"},
		{"secret without a template", "meilisearch-statefulset.yaml", "{name: meilisearch-master-key, key: MEILI_MASTER_KEY}", "{name: meili-key, key: MEILI_MASTER_KEY}", "no template for Secret meili-key"},
		{"optional secret", "site-deployment.yaml", "{name: familylinks-secrets, key: FAMILYLINKS_CSRF_KEY}", "{name: familylinks-secrets, key: FAMILYLINKS_CSRF_KEY, optional: true}", "must not be optional"},
		// 6. the connection budget
		{"connection budget", "postgres-cluster.yaml", `max_connections: "200"`, `max_connections: "100"`, "max_connections 100"},
		{"budget without the LISTEN connections", "postgres-cluster.yaml", `max_connections: "200"`, `max_connections: "123"`, "max_connections 123 < 10 site replicas × (8 + 1 listening)"},
		{"more replicas", "site-hpa.yaml", "maxReplicas: 10", "maxReplicas: 20", "max_connections 200 < 20 site replicas"},
		{"pool unbounded", "secrets/familylinks.template.yaml", "&pool_max_conns=8", "", "pool_max_conns"},
		{"database URL to a replica", "secrets/familylinks.template.yaml", "@familylinks-pg-rw:5432", "@familylinks-pg-ro:5432", "primary"},
		{"database URL without TLS", "secrets/familylinks.template.yaml", "sslmode=require", "sslmode=disable", "sslmode"},
		{"real-looking secret", "secrets/familylinks.template.yaml", `"REPLACE_WITH_MEILISEARCH_ADMIN_API_KEY"`, `"3f9a1c7e5b2d4f6a8c0e1b3d5f7a9c1e"`, "without REPLACE"},
		{"master key in clear", "meilisearch-statefulset.yaml", "valueFrom:\n                secretKeyRef: {name: meilisearch-master-key, key: MEILI_MASTER_KEY}", "value: REPLACE", "given in clear"},
		// 7. network policies
		{"no default deny", "networkpolicies.yaml", "  podSelector: {}\n  policyTypes: [\"Ingress\", \"Egress\"]", "  podSelector: {}\n  policyTypes: [\"Ingress\"]", "default-deny"},
		{"site open to the namespace", "networkpolicies.yaml", "        - namespaceSelector:\n            matchLabels:\n              familylinks-ingress: allow\n", "        - podSelector: {}\n        - namespaceSelector:\n            matchLabels:\n              familylinks-ingress: allow\n", "lets in every pod"},
		{"Meilisearch open to all", "networkpolicies.yaml", "    - from:\n        - podSelector:\n            matchLabels:\n              app.kubernetes.io/name: familylinks\n      ports:\n        - port: 7700", "    - ports:\n        - port: 7700", "lets in every pod"},
		{"site cut from PostgreSQL", "networkpolicies.yaml", "              cnpg.io/cluster: familylinks-pg\n      ports:\n        - port: 5432\n          protocol: TCP\n    - to:", "              cnpg.io/cluster: familylinks-pg\n      ports:\n        - port: 5433\n          protocol: TCP\n    - to:", "cannot reach PostgreSQL"},
		{"Meilisearch shut to the site", "networkpolicies.yaml", "              app.kubernetes.io/name: familylinks\n      ports:\n        - port: 7700", "              app.kubernetes.io/name: purge\n      ports:\n        - port: 7700", "cannot reach Meilisearch"},
		{"site open to the internet", "networkpolicies.yaml", "        - port: 587\n          protocol: TCP\n        - port: 465\n          protocol: TCP\n", "", "opens every port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := manifests(t)
			f, ok := fsys[tc.file]
			if !ok {
				t.Fatalf("no file %s", tc.file)
			}
			if strings.Count(string(f.Data), tc.old) != 1 {
				t.Fatalf("%s must contain %q exactly once, to be broken", tc.file, tc.old)
			}
			fsys[tc.file] = &fstest.MapFile{Data: []byte(strings.Replace(string(f.Data), tc.old, tc.new, 1))}
			errs := run(fsys, c)
			for _, err := range errs {
				if strings.Contains(err.Error(), tc.want) {
					return
				}
			}
			t.Errorf("no problem mentions %q; got %d: %v", tc.want, len(errs), errs)
		})
	}
}
